/* thumbnailer.vapi: examples/c/thumbnailer.h, what the thumbnailer
 * examples share with their worker module, for Vala.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

[CCode (cheader_filename = "thumbnailer.h")]
namespace Thumbnailer {
    [CCode (cname = "ThumbnailerError", cprefix = "THUMBNAILER_ERROR_", has_type_id = false)]
    public enum Error {
        NOT_AN_IMAGE,
        TRUNCATED,
        TOO_LARGE,
        NOT_TEXT,
        READ
    }
    [CCode (cname = "THUMBNAILER_ERROR_DOMAIN")]
    public const string ERROR_DOMAIN;
    [CCode (cname = "THUMBNAILER_IMAGE_TYPE")]
    public const string IMAGE_TYPE;
    [CCode (cname = "THUMBNAILER_TEXT_TYPE")]
    public const string TEXT_TYPE;
}
