/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sluice-store user add NAME [-c store.yaml] [--iterations N]` and
 * `sluice-store user remove NAME [-c store.yaml]`: manage auth.users_file.
 * add reads the password from stdin (first line, without its newline; a
 * terminal is not required, so `printf '%s\n' "$PW" | sluice-store user add
 * alice` works in scripts) and writes SCRAM-SHA-256 and SCRAM-SHA-512
 * credentials; the file is rewritten atomically with mode 0600.  A running
 * store re-reads it on SIGHUP (systemctl reload sluice-store).
 */
#ifndef SLUICE_STORE_AUTH_USERS_CMD_H
#define SLUICE_STORE_AUTH_USERS_CMD_H

/* argv[0] is "user".  Returns the process exit status. */
int users_cmd_main(int argc, char **argv);

#endif
