/* AsyncGui-1-custom.vala: declarations vapigen merges into asyncgui-1.vapi
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The methods that take a NULL-terminated `const char * const *` vector.
 * From the GIR alone, valac would pass a `gchar **`, which GCC 14 rejects
 * for that C type; with the ctype it casts the vector at the call. The
 * metadata skips the GIR's declarations of these methods.
 */

namespace AsyncGui {
	public sealed class CommandTask : AsyncGui.Task {
		[CCode (has_construct_function = false)]
		public CommandTask ([CCode (array_length = false, array_null_terminated = true, type = "const char* const*")] string[] argv);
		public void set_environ ([CCode (array_length = false, array_null_terminated = true, type = "const char* const*")] string[]? env);
	}

	public sealed class WorkerPool : GLib.Object {
		public void set_command (AsyncGui.WorkerKind kind, [CCode (array_length = false, array_null_terminated = true, type = "const char* const*")] string[]? argv);
		public void set_sandbox_paths ([CCode (array_length = false, array_null_terminated = true, type = "const char* const*")] string[]? paths);
	}
}
