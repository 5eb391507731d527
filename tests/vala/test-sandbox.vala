/* test-sandbox.vala: a sandboxed worker call from Vala
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A file the test opens reaches a sandboxed C worker as a descriptor; the
 * function (attack-module.c's ag_attack_size_of_fd) returns its size.
 */

[CCode (cname = "ATTACK_MODULE")]
extern const string ATTACK_MODULE;

const uint SAFETY_MS = 10000;

async uint64 size_in_worker (AsyncGui.Engine engine, File file, bool sandboxed) throws Error {
    var task = new AsyncGui.WorkerTask.c (ATTACK_MODULE, "ag_attack_size_of_fd",
                                          new Variant ("(h)", 0));
    assert_cmpint (task.add_file (file), CompareOperator.EQ, 0);
    task.sandboxed = sandboxed;
    task.result_type = VariantType.UINT64;
    Value value = yield engine.run (task, null);
    return ((Variant) value).get_uint64 ();
}

void test_sandboxed_worker_reads_a_file_passed_as_fd () {
    var engine = new AsyncGui.Engine.for_context (MainContext.default ());
    var pool = engine.get_worker_pool ();
    pool.sandbox_paths = { Path.get_dirname (ATTACK_MODULE) };
    try {
        assert_true (pool.check_sandbox ());
    } catch (Error e) {
        error ("the sandbox cannot run here: %s", e.message);
    }

    FileIOStream stream;
    File file;
    try {
        file = File.new_tmp ("asyncgui-sandbox-XXXXXX", out stream);
        stream.output_stream.write_all ("twelve bytes".data, null);
        stream.close ();
    } catch (Error e) {
        error ("%s", e.message);
    }

    foreach (bool sandboxed in new bool[] { false, true }) {
        uint64 size = 0;
        bool done = false;
        size_in_worker.begin (engine, file, sandboxed, (obj, res) => {
            try {
                size = size_in_worker.end (res);
            } catch (Error e) {
                error ("%s", e.message);
            }
            done = true;
        });
        var context = MainContext.default ();
        var deadline = get_monotonic_time () + SAFETY_MS * 1000;
        while (!done && get_monotonic_time () < deadline) {
            context.iteration (true);
        }
        assert_true (done);
        assert_cmpuint ((uint) size, CompareOperator.EQ, 12);
    }

    try {
        file.delete ();
    } catch (Error e) {
    }
    engine.dispose ();
}

int main (string[] args) {
    Test.init (ref args);
    Test.add_func ("/vala/sandboxed-worker-reads-a-file-passed-as-fd",
                   test_sandboxed_worker_reads_a_file_passed_as_fd);
    return Test.run ();
}
