// asyncgui-gjs-worker.js: the warm worker process for JavaScript functions
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Run as `gjs -m asyncgui-gjs-worker.js`. The engine sends requests "(tsv)"
// on stdin: an id, a target "MODULE-URI:EXPORT" and the arguments as JSON
// text (an array). The worker imports the module once, calls the export
// (awaiting it if it returns a promise) and answers with a reply "(tbv)":
// the result as JSON text, or a failure "(sisv)" whose extra value is the
// error's stack. Before the first request it greets the engine with the
// protocol version. This is how JavaScript work runs in parallel: GJS
// itself never runs JavaScript on a second thread.
//
// Files the application passed come on the socket on fd 3 ahead of their
// request (asyncgui/process/ag-worker-process.c describes it); the function
// gets them after its arguments, as an array of Gio.UnixInputStream. The
// worker's first byte on that socket tells the engine which process it is,
// for the limits it sets per call. With --sandbox it runs under bwrap and
// loads the seccomp filter it finds on fd 4 through the library's
// AsyncGui.worker_lock_down before it greets the engine: from then on it
// cannot run programs either. Results are JSON text, plain data, in every
// case. A call that GLib runs out of memory in (past its limit) is
// answered with AG_ERROR_MEMORY_LIMIT by the library's log writer
// (AsyncGui.worker_set_current_call) before the process goes.

import AsyncGui from 'gi://AsyncGui?version=1';
import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import System from 'system';

const MAX_FRAME = 64 * 1024 * 1024;
const REQUEST_TYPE = new GLib.VariantType('(tsv)');
const ERROR_DOMAIN = 'asyncgui-gjs-error';
const PROTOCOL_VERSION = 1;

// GJS 1.74 never frees a GLib.Variant it made, about a kilobyte per
// call: a worker leaves after this many calls, while idle, and the engine
// starts a fresh one for the next (a call sent meanwhile goes to it too).
const MAX_CALLS = 2000;

const FD_SOCKET = 3;
const FD_FILTER = 4;

// The pipes are the protocol: the functions read /dev/null on stdin, and
// what they print goes to stderr.
const input = new Gio.UnixInputStream({fd: AsyncGui.worker_take_stdin(), close_fd: false});
const output = new Gio.UnixOutputStream({fd: AsyncGui.worker_take_stdout(), close_fd: false});
const modules = new Map();

// The socket the files come on; null under a program that gave none.
let files = null;
try {
    const socket = Gio.Socket.new_from_fd(FD_SOCKET);
    socket.send(new Uint8Array([0]), null);
    files = socket.connection_factory_create_connection();
} catch {
    files = null;
}

// The files sent with request `id`, if any; they were queued before the
// request, so nothing waits here.
function receiveFiles(id) {
    if (files === null ||
        !(files.get_socket().condition_check(GLib.IOCondition.IN) & GLib.IOCondition.IN))
        return null;
    const header = files.get_input_stream().read_bytes(12, null).toArray();
    // The end of the socket: the engine let this worker go, maybe after it
    // wrote the request; none has files to come.
    if (header.length === 0)
        return null;
    if (header.length !== 12)
        throw new Error('the files of a request did not arrive as the protocol says');
    const view = new DataView(header.buffer, header.byteOffset, 12);
    if (view.getBigUint64(0, true) !== BigInt(id))
        throw new Error('the files of a request did not arrive as the protocol says');
    const streams = [];
    for (let i = 0; i < view.getUint32(8, true); i++)
        streams.push(new Gio.UnixInputStream({fd: files.receive_fd(null), close_fd: true}));
    return streams;
}

function readExactly(size) {
    const chunks = [];
    let got = 0;
    while (got < size) {
        const bytes = input.read_bytes(size - got, null);
        const data = bytes.toArray();
        if (data.length === 0)
            return null;
        chunks.push(data);
        got += data.length;
    }
    const all = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
        all.set(chunk, offset);
        offset += chunk.length;
    }
    return all;
}

function readRequest() {
    const header = readExactly(4);
    if (header === null)
        return null;
    const length = new DataView(header.buffer).getUint32(0, true);
    if (length > MAX_FRAME)
        throw new Error(`a request of ${length} bytes is more than allowed`);
    const payload = readExactly(length);
    if (payload === null)
        return null;
    const request = GLib.Variant.new_from_bytes(REQUEST_TYPE, new GLib.Bytes(payload), false);
    if (!request.is_normal_form())
        throw new Error('a request is not a valid (tsv) value');
    return request;
}

function writeReply(reply) {
    const data = reply.get_data_as_bytes().toArray();
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, data.length, true);
    output.write_all(header, null);
    output.write_all(data, null);
    output.flush(null);
}

async function resolve(target) {
    const colon = target.lastIndexOf(':');
    if (colon <= 0 || colon === target.length - 1)
        throw new Error(`“${target}” is not of the form MODULE-URI:EXPORT`);
    const uri = target.slice(0, colon);
    const name = target.slice(colon + 1);
    if (!modules.has(uri))
        modules.set(uri, await import(uri));
    const func = modules.get(uri)[name];
    if (typeof func !== 'function')
        throw new Error(`the module “${uri}” exports no function “${name}”`);
    return func;
}

async function serve(request) {
    const id = request.get_child_value(0).get_uint64();
    const target = request.get_child_value(1).get_string()[0];
    const json = request.get_child_value(2).get_variant().get_string()[0];
    const streams = receiveFiles(id);
    AsyncGui.worker_set_current_call(id);
    try {
        const func = await resolve(target);
        const args = JSON.parse(json);
        const result = await func(...args, ...streams !== null ? [streams] : []);
        const text = JSON.stringify(result === undefined ? null : result);
        if (text === undefined)
            throw new TypeError(`“${target}” returned a ${typeof result}, which JSON cannot carry`);
        return new GLib.Variant('(tbv)', [id, true, new GLib.Variant('s', text)]);
    } catch (error) {
        const stack = error instanceof Error && error.stack ? error.stack : '';
        // What the JS engine throws when an allocation fails: past the
        // call's memory limit, as GLib's allocator failing there is (the
        // library's log writer answers that one).
        if (error === 'out of memory') {
            return new GLib.Variant('(tbv)', [id, false, new GLib.Variant('(sisv)', [
                GLib.quark_to_string(AsyncGui.error_quark()), AsyncGui.Error.MEMORY_LIMIT,
                'The worker call used more memory than its limit allows', new GLib.Variant('s', '')])]);
        }
        // A GLib.Error goes as itself: its domain and code, which the
        // parent keeps when it knows the domain.
        const failure = error instanceof GLib.Error
            ? new GLib.Variant('(sisv)', [GLib.quark_to_string(error.domain), error.code,
                error.message, new GLib.Variant('s', stack)])
            : new GLib.Variant('(sisv)', [ERROR_DOMAIN, 0,
                error instanceof Error ? `${error.name}: ${error.message}` : String(error),
                new GLib.Variant('s', stack)]);
        return new GLib.Variant('(tbv)', [id, false, failure]);
    } finally {
        AsyncGui.worker_set_current_call(0);
        for (const stream of streams ?? [])
            stream.close(null);
    }
}

// A sandboxed worker never serves a call without its filter: if it cannot
// load it, it says why and goes.
if (System.programArgs.includes('--sandbox')) {
    try {
        AsyncGui.worker_lock_down(FD_FILTER);
    } catch (error) {
        printerr(`asyncgui-gjs-worker: ${error.message}`);
        System.exit(1);
    }
}

// One request at a time: read, serve, answer. Reads block, which is what
// a worker should do while it has nothing to do.
writeReply(new GLib.Variant('(tbv)', [0, true, new GLib.Variant('u', PROTOCOL_VERSION)]));
for (let calls = 0; calls < MAX_CALLS; calls++) {
    const request = readRequest();
    if (request === null)
        break;
    writeReply(await serve(request));
}
