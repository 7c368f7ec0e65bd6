/* A small JSON reader for the connector's own settings files (port files and
 * tls.json): it walks a document and hands every scalar member to a callback, with
 * the name of the member and of the object around it. No tree is built; strict JSON
 * (RFC 8259) with a UTF-8 byte-order mark allowed, nesting bounded. Crypto-free. */
#ifndef CS_JSON_H
#define CS_JSON_H

#include <stddef.h>

#include "error.h"

#define CS_JSON_NAME_MAX 128  /* longer member names are handed over as "" */
#define CS_JSON_VALUE_MAX 256 /* longer string values are not handed over */
#define CS_JSON_DEPTH_MAX 32

typedef enum { CS_JSON_STRING, CS_JSON_NUMBER, CS_JSON_TRUE, CS_JSON_FALSE, CS_JSON_NULL } cs_json_type_t;

/* One scalar: parent is the name of the member holding the enclosing object or array
 * ("" at the top level), name the member's own name ("" inside an array), value its
 * text (a string unescaped; \u escapes outside ASCII become '?'), type what it was.
 * Return 0 to go on, anything else to stop the walk (cs_json_walk returns it). */
typedef int (*cs_json_cb)(void *arg, const char *parent, const char *name, const char *value, cs_json_type_t type);

/* Walks data[0..len): 0 when the whole text is one valid JSON value, CS_EFORMAT (err
 * says where and what) when it is not, or what cb returned to stop. */
int cs_json_walk(const char *data, size_t len, cs_json_cb cb, void *arg, cs_err_t *err);

#endif
