/*
 * notify - the systemd readiness protocol (sd_notify(3)) for Type=notify.
 *
 * A datagram of "KEY=VALUE\n" lines to the AF_UNIX socket named by
 * $NOTIFY_SOCKET (a path, or an abstract name starting with '@').  The
 * protocol is small and documented as stable, so this is a few lines of
 * sendto() rather than a dependency on libsystemd (which would pull in its
 * own libraries for one function).
 */
#ifndef OVSCHED_OPS_NOTIFY_H
#define OVSCHED_OPS_NOTIFY_H

/* Send STATE (e.g. "READY=1\nSTATUS=listening") to $NOTIFY_SOCKET.  Returns 1
 * when sent, 0 when NOTIFY_SOCKET is unset (not under systemd), or a negative
 * errno. */
int notify_send(const char *state);

#endif
