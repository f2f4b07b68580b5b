/*
 * exec_launch - what a shell attempt may see of the daemon: its environment,
 * its user, its data folder (docs/security.md, "What a job can reach").
 *
 * Environment.  An attempt never inherits the daemon's environment, which may
 * hold OVSCHED_ADMIN_TOKEN and whatever else the operator exported.  It gets a
 * minimal set (PATH, LANG and TZ copied from the daemon when set, PATH
 * defaulted otherwise; HOME of the user it runs as), then the job's own
 * `executor.env`, then the run variables the daemon sets (OVSCHED_JOB_ID, ...),
 * which a job cannot override.
 *
 * User.  A child of the daemon inherits its credentials and its mount
 * namespace, and libuv runs no code of ours between fork() and exec().  So an
 * attempt with a run_as user is started through the daemon's own binary in a
 * helper mode (`ovsched exec-launch`, exec_launch_main()), a fresh
 * single-threaded process that, before it execs the job:
 *   1. hides the data folder under an empty read-only tmpfs in a mount
 *      namespace of its own, when it may (root or CAP_SYS_ADMIN; skipped
 *      otherwise: the user switch below is what keeps the folder out of reach,
 *      since it is 0700 and owned by the daemon's user);
 *   2. takes the user's supplementary groups, group and user id, and checks
 *      there is no way back;
 *   3. drops every capability (a daemon granted CAP_SETUID keeps its ambient
 *      capabilities across setuid() between two non-root users);
 *   4. closes every descriptor above stderr, so nothing the daemon holds open
 *      leaks into the job even if a descriptor missed O_CLOEXEC.
 * A failure in any step is written to stderr (the attempt's output) and the
 * launcher exits 126 without running the job.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec/internal.h"

#define DEFAULT_PATH  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define LAUNCH_FAILED 126
#define MAX_GROUPS    256
#define N_COPIED      (sizeof(copied) / sizeof(copied[0]))

/* ---- environment ---------------------------------------------------------- */

static size_t env_key_len(const char *entry)
{
    const char *eq = strchr(entry, '=');
    return eq ? (size_t)(eq - entry) : strlen(entry);
}

static bool env_same_key(const char *a, const char *b)
{
    size_t n = env_key_len(a);
    return n == env_key_len(b) && memcmp(a, b, n) == 0;
}

bool exec_env_key_is_valid(const char *key, size_t len)
{
    if (len == 0 ||
        !((key[0] >= 'A' && key[0] <= 'Z') || (key[0] >= 'a' && key[0] <= 'z') || key[0] == '_'))
        return false;
    for (size_t i = 1; i < len; i++) {
        char c = key[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

/* Set ENTRY ("K=V") in ENV (N entries, room for one more), or remove K when
 * ENTRY has no '='.  ENTRY is borrowed. */
static void env_apply(char **env, size_t *n, const char *entry)
{
    size_t i = 0;
    while (i < *n && !env_same_key(env[i], entry))
        i++;
    if (!strchr(entry, '=')) {
        if (i < *n)
            env[i] = env[--*n];
        return;
    }
    env[i] = (char *)entry;
    if (i == *n)
        ++*n;
}

static size_t count(const char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

/* The attempt's environment (exec_shell_spec.env says what is in it), with
 * HOME (NULL: the daemon's HOME, if set).  *ret_env is a NULL-terminated
 * array (free it) of borrowed strings and of strings in *ret_strings (free it
 * too).  Returns 0 or -ENOMEM. */
static int env_build(const struct exec_shell_spec *spec, const char *home, char **ret_strings,
                     char ***ret_env)
{
    if (!home)
        home = getenv("HOME");
    static const char *const copied[] = {"PATH", "LANG", "TZ"};
    size_t cap = N_COPIED + 1 + count(spec->env) + count(spec->run_env) + 1;
    char **env = calloc(cap, sizeof(*env));
    /* The copied entries and HOME, "K=V\0" each, in one block. */
    size_t size = sizeof("HOME=") + (home ? strlen(home) : 0) + sizeof("PATH=" DEFAULT_PATH);
    for (size_t i = 0; i < N_COPIED; i++)
        size += strlen(copied[i]) + 2 + (getenv(copied[i]) ? strlen(getenv(copied[i])) : 0);
    char *strings = malloc(size), *p = strings;
    if (!env || !strings) {
        free(env);
        free(strings);
        return -ENOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < N_COPIED; i++) {
        const char *value = getenv(copied[i]);
        if (!value && strcmp(copied[i], "PATH") == 0)
            value = DEFAULT_PATH;
        if (!value)
            continue;
        env[n++] = p;
        p += sprintf(p, "%s=%s", copied[i], value) + 1;
    }
    if (home) {
        env[n++] = p;
        p += sprintf(p, "HOME=%s", home) + 1;
    }
    for (size_t i = 0; spec->env && spec->env[i]; i++)
        env_apply(env, &n, spec->env[i]);
    for (size_t i = 0; spec->run_env && spec->run_env[i]; i++)
        env_apply(env, &n, spec->run_env[i]);
    env[n] = NULL;
    *ret_strings = strings;
    *ret_env = env;
    return 0;
}

/* ---- users ---------------------------------------------------------------- */

/* Whether this process holds capability CAP in its effective set. */
static bool has_capability(int cap)
{
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {{0}};
    if (syscall(SYS_capget, &header, data) < 0)
        return false;
    return (data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap)) != 0;
}

bool exec_can_switch_user(void)
{
    return geteuid() == 0 || (has_capability(CAP_SETUID) && has_capability(CAP_SETGID));
}

/* NAME's passwd entry into PW (strings in BUF).  Returns 0, -ENOENT, or the
 * lookup's error. */
static int user_find(const char *name, struct passwd *pw, char *buf, size_t size)
{
    struct passwd *found = NULL;
    int r = getpwnam_r(name, pw, buf, size, &found);
    if (r != 0)
        return -r;
    return found ? 0 : -ENOENT;
}

int exec_run_as_check(const char *name, char *err, size_t err_size)
{
    struct passwd pw;
    char buf[4096];
    int r = user_find(name, &pw, buf, sizeof(buf));
    if (r == -ENOENT) {
        snprintf(err, err_size, "no user '%s' on the daemon's machine", name);
        return -EINVAL;
    }
    if (r < 0) {
        snprintf(err, err_size, "cannot look up user '%s': %s", name, strerror(-r));
        return -EINVAL;
    }
    if (pw.pw_uid != geteuid() && !exec_can_switch_user()) {
        snprintf(err, err_size,
                 "the daemon runs as uid %u and cannot switch to user '%s' (start it as root, "
                 "or with CAP_SETUID and CAP_SETGID)",
                 (unsigned)geteuid(), name);
        return -EPERM;
    }
    return 0;
}

/* NAME's home folder in *ret_home (free it).  Returns 0, or -EINVAL (no such
 * user) or the lookup's error with REASON filled in. */
static int user_home(const char *name, char **ret_home, struct exec_error *reterr)
{
    struct passwd pw;
    char buf[4096];
    int r = user_find(name, &pw, buf, sizeof(buf));
    if (r == -ENOENT)
        return exec_error_set(reterr, -EINVAL, "run_as: no user '%s'", name);
    if (r < 0)
        return exec_error_set(reterr, r, "run_as: cannot look up user '%s': %s", name,
                              exec_strerror(r));
    if (!(*ret_home = strdup(pw.pw_dir)))
        return exec_error_set(reterr, -ENOMEM, "out of memory");
    return 0;
}

/* ---- the launcher: the daemon's side -------------------------------------- */

/* FILE with ARGS wrapped in the launcher: "/proc/self/exe exec-launch --user
 * RUN_AS [--hide DIR] -- FILE ARGS[1..]".  *ret_args (free it) borrows every
 * string.  Returns 0 or -ENOMEM. */
static int launch_wrap(const struct exec_shell_spec *spec, const char *file, char *const *args,
                       char ***ret_args)
{
    size_t argc = count((const char *const *)args);
    /* ovsched exec-launch --user U [--hide DIR] -- FILE ARGS... */
    char **wrapped = calloc(argc + 9, sizeof(*wrapped));
    if (!wrapped)
        return -ENOMEM;
    size_t n = 0;
    wrapped[n++] = (char *)"/proc/self/exe";
    wrapped[n++] = (char *)"exec-launch";
    wrapped[n++] = (char *)"--user";
    wrapped[n++] = (char *)spec->run_as;
    if (spec->hide_dir) {
        wrapped[n++] = (char *)"--hide";
        wrapped[n++] = (char *)spec->hide_dir;
    }
    wrapped[n++] = (char *)"--";
    wrapped[n++] = (char *)file;
    for (size_t i = 1; i < argc; i++)
        wrapped[n++] = args[i];
    wrapped[n] = NULL;
    *ret_args = wrapped;
    return 0;
}

int exec_attempt_prepare(const struct exec_shell_spec *spec, const char *file, char **args,
                         struct exec_attempt *attempt, struct exec_error *reterr)
{
    char *home = NULL;
    int r;
    *attempt = (struct exec_attempt){.file = file, .args = args};
    if (spec->run_as && (r = user_home(spec->run_as, &home, reterr)) < 0)
        return r;
    attempt->owned[0] = home;
    if ((r = env_build(spec, home, &attempt->owned[1], &attempt->env)) < 0 ||
        (spec->run_as && (r = launch_wrap(spec, file, args, &attempt->args)) < 0)) {
        exec_attempt_release(attempt);
        return exec_error_set(reterr, r, "out of memory");
    }
    if (spec->run_as) {
        attempt->owned[2] = (char *)attempt->args;
        attempt->file = attempt->args[0];
    }
    return 0;
}

void exec_attempt_release(struct exec_attempt *attempt)
{
    for (size_t i = 0; i < 3; i++)
        free(attempt->owned[i]);
    free(attempt->env);
    *attempt = (struct exec_attempt){0};
}

/* ---- the launcher: the helper process ------------------------------------- */

static int launch_fail(const char *what, const char *arg)
{
    fprintf(stderr, "ovsched exec-launch: %s%s%s: %s\n", what, arg ? " " : "", arg ? arg : "",
            strerror(errno));
    return LAUNCH_FAILED;
}

/* Cover DIR with an empty read-only tmpfs in a new mount namespace, then
 * re-enter the working directory through it (a working directory inside DIR
 * would otherwise still reach the real folder).  Without the privilege for a
 * mount namespace, returns 0 and changes nothing. */
static int hide_dir(const char *dir)
{
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd)))
        snprintf(cwd, sizeof(cwd), "/");
    if (unshare(CLONE_NEWNS) < 0)
        return errno == EPERM ? 0 : launch_fail("cannot make a mount namespace", NULL);
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return launch_fail("cannot make the mounts private", NULL);
    if (mount("ovsched-hidden", dir, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "size=4k,mode=0555") < 0)
        return launch_fail("cannot hide", dir);
    if (chdir(cwd) < 0 && chdir("/") < 0)
        return launch_fail("cannot change to", "/");
    return 0;
}

static int drop_capabilities(void)
{
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {{0}};
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return launch_fail("cannot clear the ambient capabilities", NULL);
    if (syscall(SYS_capset, &header, data) < 0)
        return launch_fail("cannot drop capabilities", NULL);
    return 0;
}

static int become_user(const char *name)
{
    struct passwd pw;
    char buf[4096];
    int r = user_find(name, &pw, buf, sizeof(buf));
    if (r < 0) {
        errno = -r;
        return launch_fail("no user", name);
    }
    gid_t groups[MAX_GROUPS];
    int n = MAX_GROUPS;
    if (getgrouplist(name, pw.pw_gid, groups, &n) < 0)
        n = 0; /* more than MAX_GROUPS: keep only the primary group */
    if (pw.pw_uid != geteuid() || pw.pw_gid != getegid()) {
        if (setgroups((size_t)(n > 0 ? n : 1), n > 0 ? groups : &pw.pw_gid) < 0 ||
            setgid(pw.pw_gid) < 0 || setuid(pw.pw_uid) < 0)
            return launch_fail("cannot become user", name);
    }
    if (getuid() != pw.pw_uid || geteuid() != pw.pw_uid || getgid() != pw.pw_gid) {
        errno = EPERM;
        return launch_fail("still not user", name);
    }
    if (pw.pw_uid != 0) {
        if ((r = drop_capabilities()) != 0)
            return r;
        if (setuid(0) == 0) { /* there must be no way back */
            errno = EPERM;
            return launch_fail("could become root again after switching to", name);
        }
    }
    return 0;
}

int exec_launch_main(int argc, char **argv)
{
    const char *user = NULL, *hide = NULL;
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
            user = argv[++i];
        else if (strcmp(argv[i], "--hide") == 0 && i + 1 < argc)
            hide = argv[++i];
        else
            break;
    }
    if (i >= argc - 1 || strcmp(argv[i], "--") != 0) {
        fprintf(stderr, "usage: ovsched exec-launch [--user NAME] [--hide DIR] -- PROGRAM "
                        "[ARGS...]\n(started by the daemon for shell jobs with run_as; see "
                        "docs/security.md)\n");
        return 2;
    }
    int r;
    if (hide && (r = hide_dir(hide)) != 0)
        return r;
    if (user && (r = become_user(user)) != 0)
        return r;
    close_range(3, ~0U, 0);
    execvp(argv[i + 1], argv + i + 1);
    r = errno == ENOENT ? 127 : LAUNCH_FAILED;
    fprintf(stderr, "ovsched exec-launch: cannot run \"%s\": %s\n", argv[i + 1], strerror(errno));
    return r;
}
