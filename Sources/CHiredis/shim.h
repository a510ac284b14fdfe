#ifndef UPSHIFT_CHIREDIS_SHIM_H
#define UPSHIFT_CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>
#include <hiredis/read.h>
#include <stdlib.h>

/* RESP's parser hands hiredis 0.14 only whole RESP2 frames it has already checked against its
 * caps (lengths, counts, depth <= 7), so the reader needs no caps of its own here. */

typedef struct upshift_reader_functions {
    redisReplyObjectFunctions *original;
    redisReplyObjectFunctions wrapped;
} upshift_reader_functions;

/* hiredis folds "$-1" and "*-1" into one NIL reply; RESP2 proxies must tell them apart,
 * so a null array is marked with integer = 1 on the (otherwise unused) field. */
static inline void *upshift_create_nil(const redisReadTask *task) {
    upshift_reader_functions *fns = (upshift_reader_functions *)task->privdata;
    redisReply *reply = (redisReply *)fns->original->createNil(task);
    if (reply != NULL && task->type == REDIS_REPLY_ARRAY) reply->integer = 1;
    return reply;
}

/* Creates a reader that tells a null array from a null bulk string; NULL when out of memory. */
static inline redisReader *upshift_reader_create(void) {
    redisReader *r = redisReaderCreate();
    if (r == NULL) return NULL;
    upshift_reader_functions *fns = (upshift_reader_functions *)calloc(1, sizeof(upshift_reader_functions));
    if (fns == NULL) { redisReaderFree(r); return NULL; }
    fns->original = r->fn;
    fns->wrapped = *r->fn;
    fns->wrapped.createNil = upshift_create_nil;
    r->fn = &fns->wrapped;
    r->privdata = fns;
    r->maxbuf = 64 * 1024;
    return r;
}

static inline void upshift_reader_free(redisReader *r) {
    if (r == NULL) return;
    upshift_reader_functions *fns = (upshift_reader_functions *)r->privdata;
    r->fn = fns->original;
    redisReaderFree(r);
    free(fns);
}

static inline const char *upshift_reader_errstr(redisReader *r) { return r->errstr; }

#endif
