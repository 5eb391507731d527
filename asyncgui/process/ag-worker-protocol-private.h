/* ag-worker-protocol-private.h: length-framed GVariant messages
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A frame is a little-endian 32-bit length, then that many bytes: one
 * GVariant in normal form. Requests go to a worker, replies come back:
 *
 *   request  (tsv)   id, target, arguments
 *   reply    (tbv)   id, succeeded, value  or  (sisv) error domain, code,
 *                    message, extra data for the binding (() if none)
 *
 * A worker greets first, before it reads a request: a reply with id 0
 * (request ids start at 1), succeeded, and the protocol version <uint32 1>.
 * Until the greeting the worker has not started: if it dies or sends
 * anything else, it has run nothing it was sent, so the pool may give its
 * call to another worker.
 */
#define AG_FRAME_MAX_SIZE           (64 * 1024 * 1024)
#define AG_REQUEST_TYPE             ((const GVariantType *) "(tsv)")
#define AG_REPLY_TYPE               ((const GVariantType *) "(tbv)")
#define AG_REPLY_ERROR_TYPE         ((const GVariantType *) "(sisv)")
#define AG_WORKER_GREETING_ID       0
#define AG_WORKER_PROTOCOL_VERSION  1

typedef struct _AgFrameReader AgFrameReader;

AgFrameReader *_ag_frame_reader_new   (const GVariantType  *type);
void           _ag_frame_reader_free  (AgFrameReader       *reader);
void           _ag_frame_reader_feed  (AgFrameReader       *reader,
                                       const guint8        *data,
                                       gsize                length);
gboolean       _ag_frame_reader_pop   (AgFrameReader       *reader,
                                       GVariant           **message,
                                       GError             **error);
gsize          _ag_frame_reader_get_buffered (AgFrameReader *reader);

GBytes        *_ag_frame_encode       (GVariant            *message,
                                       GError             **error);
gboolean       _ag_frame_write        (int                  fd,
                                       GBytes              *frame);

/* Where a worker program's replies go: stdout, or the descriptor
 * ag_worker_take_stdout() gave it (ag-worker-stdout.c). */
int            _ag_worker_get_replies_fd (void);
void           _ag_worker_protocol_init (void);

/* Messages are made and taken apart child by child: g_variant_new() and
 * g_variant_get() parse their format string on every call, which cost a
 * call several times what the rest of its message handling does. */
GVariant      *_ag_request_new        (guint64              id,
                                       const char          *target,
                                       GVariant            *args);
void           _ag_request_get        (GVariant            *request,
                                       guint64             *id,
                                       GVariant           **target,
                                       GVariant           **args);
void           _ag_reply_get          (GVariant            *reply,
                                       guint64             *id,
                                       gboolean            *succeeded,
                                       GVariant           **payload);
GVariant      *_ag_reply_new_greeting (void);
GVariant      *_ag_reply_new_value    (guint64              id,
                                       GVariant            *value);
GVariant      *_ag_reply_new_error    (guint64              id,
                                       const GError        *error,
                                       GVariant            *extra);
GError        *_ag_reply_parse_error  (GVariant            *payload,
                                       GVariant           **extra);
gboolean       _ag_reply_is_greeting  (GVariant            *reply,
                                       GError             **error);

G_END_DECLS
