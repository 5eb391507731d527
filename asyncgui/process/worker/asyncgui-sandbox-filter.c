/* asyncgui-sandbox-filter.c: writes the seccomp filter of sandboxed workers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE

#include "config.h"

#include <errno.h>
#include <linux/sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <seccomp.h>

/* The library runs this once and hands the BPF it writes on stdout to each
 * sandboxed worker, which loads it itself once its interpreter has started
 * (ag-sandbox.c says why). Written here rather than in the library so that
 * the library needs no libseccomp.
 *
 * Everything is allowed but what a parser never needs and an attacker
 * wants: running programs, talking to the network, looking into or
 * changing other processes, the kernel's keyrings, BPF and performance
 * counters, mounting and new namespaces, modules and reboots, and raising
 * its own limits. Refused calls fail with EPERM rather than killing the
 * worker, so that code that probes for something gets an error. The same
 * rules apply to the 32-bit system call tables, which a process can enter
 * on a 64-bit kernel. */

#define DENY(name) \
  do { \
    if (deny (ctx, SCMP_SYS (name)) < 0) \
      return 1; \
  } while (0)

static int
deny (scmp_filter_ctx ctx,
      int             syscall)
{
  int result;

  result = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), syscall, 0);
  if (result < 0 && result != -EEXIST)
    {
      fprintf (stderr, "asyncgui-sandbox-filter: cannot refuse system call %d: %s\n",
               syscall, strerror (-result));
      return -1;
    }

  return 0;
}

int
main (void)
{
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);
  const scmp_datum_t namespaces = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER
                                  | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP;
  int result;

  if (ctx == NULL)
    return 1;

  /* The native table is there already; the others may not exist here. */
  seccomp_arch_add (ctx, SCMP_ARCH_X86);
  seccomp_arch_add (ctx, SCMP_ARCH_X32);

  /* Running programs, once the worker has started. */
  DENY (execve);
  DENY (execveat);

  /* Other processes. */
  DENY (ptrace);
  DENY (process_vm_readv);
  DENY (process_vm_writev);
  DENY (kcmp);
  DENY (pidfd_getfd);

  /* The file system's shape and namespaces. */
  DENY (mount);
  DENY (umount2);
  DENY (pivot_root);
  DENY (chroot);
  DENY (unshare);
  DENY (setns);
  DENY (open_tree);
  DENY (move_mount);
  DENY (fsopen);
  DENY (fsconfig);
  DENY (fsmount);
  DENY (fspick);
  DENY (mount_setattr);
  DENY (name_to_handle_at);
  DENY (open_by_handle_at);

  /* The kernel's own facilities. */
  DENY (bpf);
  DENY (perf_event_open);
  DENY (userfaultfd);
  DENY (keyctl);
  DENY (add_key);
  DENY (request_key);
  DENY (kexec_load);
  DENY (kexec_file_load);
  DENY (init_module);
  DENY (finit_module);
  DENY (delete_module);
  DENY (reboot);
  DENY (swapon);
  DENY (swapoff);
  DENY (acct);
  DENY (quotactl);
  DENY (syslog);
  DENY (iopl);
  DENY (ioperm);
  DENY (uselib);
  DENY (vhangup);
  DENY (setrlimit);

  /* clone3 passes its flags in memory, out of the filter's sight: without
   * it, the C library falls back to clone, whose flags can be read. */
  if (seccomp_rule_add (ctx, SCMP_ACT_ERRNO (ENOSYS), SCMP_SYS (clone3), 0) < 0)
    return 1;
  /* Threads and children, but no new namespaces. */
  for (scmp_datum_t flag = 1; flag != 0; flag <<= 1)
    if ((namespaces & flag) != 0
        && seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (clone), 1,
                             SCMP_A0 (SCMP_CMP_MASKED_EQ, flag, flag)) < 0)
      return 1;

  /* Its limits may be read, not changed: the engine sets them per call. */
  if (seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (prlimit64), 1,
                        SCMP_A2 (SCMP_CMP_NE, 0)) < 0)
    return 1;

  /* 32-bit code reaches sockets through socketcall too, whose arguments
   * the filter cannot see. */
  DENY (socketcall);

  /* Unix sockets only (Python's start-up makes one); no network. */
  if (seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EAFNOSUPPORT), SCMP_SYS (socket), 1,
                        SCMP_A0 (SCMP_CMP_NE, AF_UNIX)) < 0)
    return 1;

  /* Its personality only read: another one can turn off address-space
   * randomization. */
  if (seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (personality), 1,
                        SCMP_A0 (SCMP_CMP_NE, 0xffffffff)) < 0)
    return 1;

  result = seccomp_export_bpf (ctx, STDOUT_FILENO);
  seccomp_release (ctx);

  return result < 0 ? 1 : 0;
}
