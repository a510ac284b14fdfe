#ifndef UPSHIFT_CHIREDIS_SHIM_H
#define UPSHIFT_CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>
#include <hiredis/read.h>
#include <stdlib.h>
#include <string.h>

/* hiredis 0.14's reader has no caps of its own: a hostile "*2000000000\r\n" makes it
 * calloc gigabytes. These wrappers sit between the reader and its default reply
 * functions and refuse oversized arrays and deep nesting before anything is allocated. */

typedef struct upshift_reader_caps {
    long long max_elements;
    int max_depth;
    int violated; /* 1: array too long, 2: too deep */
    redisReplyObjectFunctions *original;
    redisReplyObjectFunctions wrapped;
} upshift_reader_caps;

static inline int upshift_task_depth(const redisReadTask *task) {
    int depth = 0;
    for (const redisReadTask *t = task; t != NULL; t = t->parent) depth++;
    return depth;
}

static inline void *upshift_create_array(const redisReadTask *task, int elements) {
    upshift_reader_caps *caps = (upshift_reader_caps *)task->privdata;
    if (elements > caps->max_elements) { caps->violated = 1; return NULL; }
    if (upshift_task_depth(task) > caps->max_depth) { caps->violated = 2; return NULL; }
    return caps->original->createArray(task, elements);
}

static inline void *upshift_create_string(const redisReadTask *task, char *str, size_t len) {
    upshift_reader_caps *caps = (upshift_reader_caps *)task->privdata;
    return caps->original->createString(task, str, len);
}

static inline void *upshift_create_integer(const redisReadTask *task, long long value) {
    upshift_reader_caps *caps = (upshift_reader_caps *)task->privdata;
    return caps->original->createInteger(task, value);
}

/* hiredis folds "$-1" and "*-1" into one NIL reply; RESP2 proxies must tell them apart,
 * so a null array is marked with integer = 1 on the (otherwise unused) field. */
static inline void *upshift_create_nil(const redisReadTask *task) {
    upshift_reader_caps *caps = (upshift_reader_caps *)task->privdata;
    redisReply *reply = (redisReply *)caps->original->createNil(task);
    if (reply != NULL && task->type == REDIS_REPLY_ARRAY) reply->integer = 1;
    return reply;
}

/* Creates a reader whose arrays are capped; NULL when out of memory. */
static inline redisReader *upshift_reader_create(long long max_elements, int max_depth) {
    redisReader *r = redisReaderCreate();
    if (r == NULL) return NULL;
    upshift_reader_caps *caps = (upshift_reader_caps *)calloc(1, sizeof(upshift_reader_caps));
    if (caps == NULL) { redisReaderFree(r); return NULL; }
    caps->max_elements = max_elements;
    caps->max_depth = max_depth;
    caps->original = r->fn;
    caps->wrapped = *r->fn;
    caps->wrapped.createArray = upshift_create_array;
    caps->wrapped.createString = upshift_create_string;
    caps->wrapped.createInteger = upshift_create_integer;
    caps->wrapped.createNil = upshift_create_nil;
    r->fn = &caps->wrapped;
    r->privdata = caps;
    /* Keep the reader's buffer from being trimmed on every call: we feed it in chunks. */
    r->maxbuf = 64 * 1024;
    return r;
}

static inline void upshift_reader_free(redisReader *r) {
    if (r == NULL) return;
    upshift_reader_caps *caps = (upshift_reader_caps *)r->privdata;
    r->fn = caps->original;
    redisReaderFree(r);
    free(caps);
}

/* 0: none, 1: array over the element cap, 2: nesting over the depth cap. */
static inline int upshift_reader_violation(redisReader *r) {
    return ((upshift_reader_caps *)r->privdata)->violated;
}

/* The bytes fed but not yet consumed by a complete reply. */
static inline const char *upshift_reader_pending(redisReader *r, size_t *len) {
    *len = r->len - r->pos;
    return r->buf + r->pos;
}

/* The type of the item being read (REDIS_REPLY_*), or -1 between replies or before the type byte.
 * Once known, the type byte has been consumed and the pending bytes start with its line. */
static inline int upshift_reader_current_type(redisReader *r) {
    if (r->ridx < 0) return -1;
    return r->rstack[r->ridx].type;
}

static inline int upshift_reader_error(redisReader *r) { return r->err; }
static inline const char *upshift_reader_errstr(redisReader *r) { return r->errstr; }

#endif
