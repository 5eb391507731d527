/* c-types.vala: the AsyncGui calls whose C signatures have const pointers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Built, never run: tests/vala/meson.build compiles the C that valac makes
 * of this file with -Werror=discarded-qualifiers on top of the errors of
 * GCC 14, so a const-correct call here must stay so in valac's C too.
 *
 * Getters that return `const GValue *` or `const GError *`, and methods
 * that take a `const char * const *` vector, called the way Vala code
 * calls them. Delegates are not here: their C is checked through the
 * lambdas of test-pipelines.vala, without -Werror=discarded-qualifiers
 * (see tests/vala/meson.build). Nor are the Task.value and Task.error
 * properties: valac reads them through ag_task_get_value() and
 * ag_task_get_error() into non-const temporaries, whatever the VAPI says.
 */

public string describe_outcome (AsyncGui.Task task) {
    unowned Error? error = task.get_error ();
    if (error != null) {
        unowned Value? detail = task.get_error_detail ();
        return "%s (%s)".printf (error.message,
                                 detail != null ? detail.strdup_contents () : "no detail");
    }
    unowned Value? value = task.get_value ();
    return value != null ? value.strdup_contents () : "no value";
}

public string describe_dependency (AsyncGui.Task task, uint index) {
    unowned Value? value = task.get_dependency_value (index);
    return value != null ? value.strdup_contents () : "no value";
}

public bool channel_errors_have_details (AsyncGui.Channel channel,
                                         AsyncGui.ChannelReader reader,
                                         AsyncResult write_result) {
    unowned Value? write_detail = channel.get_write_error_detail (write_result);
    unowned Value? read_detail = reader.get_error_detail ();
    return write_detail != null && read_detail != null;
}

public AsyncGui.CommandTask command_in (string cwd, string[] argv) {
    var command = new AsyncGui.CommandTask (argv);
    command.set_cwd (cwd);
    command.set_environ ({ "LC_ALL=C", "PATH=/usr/bin:/bin" });
    command.set_environ (null);
    return command;
}

public void set_up_workers (AsyncGui.WorkerPool pool, string[] python, string module_folder) {
    pool.set_command (AsyncGui.WorkerKind.PYTHON, python);
    pool.set_command (AsyncGui.WorkerKind.GJS, null);
    pool.set_sandbox_paths ({ module_folder });
    pool.set_sandbox_paths (null);
}
