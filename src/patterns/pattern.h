/*
 * pattern - reusable job templates (SPEC section 7): validation, `{{name}}`
 * rendering, overrides, and the `trigger_on` filters of event-started jobs.
 *
 * Pure: no I/O, no clock, no globals.  A pattern is a JSON object in Nexus's
 * shape (`pattern_id`, `pattern_type`, `version`, `name`, `steps`) plus
 * `parameters` (name -> {"default", "required", "description"}) and
 * `template` (job fields).  Rendering replaces `{{name}}` (spaces inside the
 * braces allowed) in every string of the template: a string that is exactly
 * one placeholder takes the parameter's value with its JSON type (so
 * `"timeout": "{{t}}"` may become a number), any other string gets the value's
 * text.  Errors name the field and the reason
 * ("parameters.region: required by pattern 'etl' and has no default").
 */
#ifndef OVSCHED_PATTERNS_PATTERN_H
#define OVSCHED_PATTERNS_PATTERN_H

#include <jansson.h>
#include <stdbool.h>

#define PATTERN_ID_MAX 128

struct pattern_error {
    char message[512]; /* "<field>: <reason>" */
};

/* Validate DOC (borrowed) and return a normalised copy in *ret (a new
 * reference): `pattern_type` defaults to "scheduler.job", `name` to the id,
 * `parameters` to {}, `version` (string or integer) becomes a string when
 * given.  Every placeholder of the template must name a declared parameter.
 * Returns 0, or -EINVAL with ERR filled in.  *ret is written only on success. */
int pattern_parse(json_t *doc, json_t **ret, struct pattern_error *err);

/* Render PATTERN (as pattern_parse() returned it) with PARAMS (an object of
 * scalars, or NULL): a new job object in *ret.  Returns 0, or -EINVAL (a
 * parameter unknown to the pattern, not a scalar, or required and missing; no
 * template) with ERR filled in. */
int pattern_render(json_t *pattern, json_t *params, json_t **ret, struct pattern_error *err);

/* Write OWN's fields over BASE, recursing into objects that both have (arrays
 * and scalars are replaced whole). */
void pattern_overlay(json_t *base, json_t *own);

/* The fields of JOB that differ from BASE (recursing into objects both have):
 * what a job rendered from a pattern sets itself.  A new object. */
json_t *pattern_diff(json_t *job, json_t *base);

/* `metadata.scheduling.trigger_on` of a job: an array of event types
 * ("campaign.launched") or of {"type", "filter": {payload field: value}}.
 * Returns 0 (also when absent: NULL or JSON null) or -EINVAL with ERR. */
int pattern_trigger_on_check(json_t *trigger_on, struct pattern_error *err);

/* Whether an event of TYPE with PAYLOAD (may be NULL) matches TRIGGER_ON (as
 * checked above): one entry with that type whose filter fields all equal the
 * payload's (a dotted name reaches into nested objects). */
bool pattern_trigger_matches(json_t *trigger_on, const char *type, json_t *payload);

#endif
