/* run-worker.vala: what common/run-worker.c does, in Vala against the
 * subproject's VAPI: a worker thread and the C worker process, found with
 * no environment variable.
 *
 * Usage: run-worker-vala MODULE-PATH
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

async Value? run (AsyncGui.Engine engine, AsyncGui.Task task) throws Error {
    return yield engine.run (task);
}

int main (string[] args) {
    if (args.length != 2) {
        printerr ("usage: %s MODULE-PATH\n", args[0]);
        return 2;
    }
    var engine = AsyncGui.Engine.get_default ();
    var loop = new MainLoop ();
    int status = 1;

    var thread_task = new AsyncGui.Task ((task, cancellable) => {
        task.return_int (42);
    });
    var worker_task = new AsyncGui.WorkerTask.c (args[1], "install_test_getpid", null);

    run.begin (engine, thread_task, (obj, res) => {
        try {
            var value = run.end (res);
            print ("thread task: %d\n", value.get_int ());
            run.begin (engine, worker_task, (obj2, res2) => {
                try {
                    run.end (res2);
                    var worker_pid = worker_task.get_variant ().get_int32 ();
                    print ("worker task: pid %d, caller pid %d\n", worker_pid, (int) Posix.getpid ());
                    status = worker_pid > 0 && worker_pid != Posix.getpid () ? 0 : 1;
                } catch (Error e) {
                    printerr ("worker task: %s\n", e.message);
                }
                loop.quit ();
            });
        } catch (Error e) {
            printerr ("thread task: %s\n", e.message);
            loop.quit ();
        }
    });
    loop.run ();
    return status;
}
