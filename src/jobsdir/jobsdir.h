/*
 * jobsdir - `ovsched serve --jobs-dir DIR`: a watched folder of job files.
 *
 * Each DIR/<name>.json holds one job, `{"job": {...}}` as in SPEC section 2
 * (the bare job object is accepted too); a job without an id takes the file's
 * name without `.json`.  The folder is the source of truth for the jobs it
 * defines: they carry `metadata.source = "jobs-dir"` and
 * `metadata.source_file = "<name>.json"`, and only those are ever updated or
 * deleted by a reload, so jobs created through the API are never touched.
 *
 * A reload reads and validates every file together (so file order does not
 * matter and a dependency may name a job of a later file), computes the
 * difference against the jobs the folder defined before, and applies it in
 * one store transaction and then to the live schedule.  Any bad file refuses
 * the whole reload: nothing changes, and the error names the file and field
 * (`bad.json: metadata.scheduling.cron: ...`); it is logged on stderr and
 * kept for the status API (GetJobsDirStatus) until a later reload succeeds.
 *
 * Changes are noticed with uv_fs_event (inotify) on the folder and applied
 * after a quiet period (JOBSDIR_DEBOUNCE_MS): one save fires several events,
 * and editors write a temporary file and rename it.  Files whose names start
 * with `.` or do not end in `.json` are ignored.
 *
 * Runs on the daemon's loop; no function here may be called from another thread.
 */
#ifndef OVSCHED_JOBSDIR_JOBSDIR_H
#define OVSCHED_JOBSDIR_JOBSDIR_H

#include <jansson.h>
#include <stdint.h>

#define JOBSDIR_DEBOUNCE_MS 250
#define JOBSDIR_SOURCE      "jobs-dir"

struct daemon;
struct jobsdir;

/* Watch PATH for daemon D and apply it once now.  A folder that cannot be
 * watched is an error (-ENOENT, -ENOTDIR, ...) with a sentence in ERR; a
 * folder with a bad file is not: it starts, reports the file, changes nothing.
 * *ret_dir is written only on success; free it with jobsdir_free() after the
 * loop has closed its handles (uv_walk + uv_run, as the daemon stops). */
int jobsdir_start(struct daemon *d, const char *path, struct jobsdir **ret_dir, char *err,
                  size_t err_size);

/* Read and apply the folder now (what the watcher does after a change).
 * Returns 0 (applied, or nothing to do), -EINVAL (a bad file: nothing
 * changed), or a store error (nothing changed). */
int jobsdir_reload(struct jobsdir *dir);

/* The state for the status API: {"enabled", "path", "ok", "error", "file",
 * "jobs", "files", "last_reload_at", "last_applied_at", "last_reload_ms",
 * "reloads", "created", "updated", "deleted"}.  DIR may be NULL ({"enabled": false}).  New reference. */
json_t *jobsdir_status(const struct jobsdir *dir);

/* Free DIR's memory; its handles must be closed.  Accepts NULL. */
void jobsdir_free(struct jobsdir *dir);

#endif
