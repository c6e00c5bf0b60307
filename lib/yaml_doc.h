/* YAML documents read and written through libyaml's document API: the
 * cloud-init seed's files are built as node trees and emitted by libyaml,
 * so no value is ever pasted into YAML text. */
#ifndef VMM_YAML_DOC_H
#define VMM_YAML_DOC_H

#include <stddef.h>
#include <yaml.h>

/* Parses text (one document) into doc. -1 when it is not YAML, with a
 * line-numbered reason in problem; an empty text gives a document with no
 * root node. */
int yaml_doc_load(yaml_document_t *doc, const char *text, size_t len, char *problem,
                  size_t problem_len);
/* A new empty document. */
void yaml_doc_new(yaml_document_t *doc);
/* New nodes; each returns the node's id. Strings are double-quoted, so
 * "yes", "010" or "null" stay strings for every YAML reader; yaml_doc_int
 * and yaml_doc_bool are plain scalars with their tags. */
int yaml_doc_str(yaml_document_t *doc, const char *value);
int yaml_doc_int(yaml_document_t *doc, long long value);
int yaml_doc_bool(yaml_document_t *doc, int value);
int yaml_doc_map(yaml_document_t *doc);
int yaml_doc_seq(yaml_document_t *doc);
/* Sets key of mapping map to node value: replaces the value of an
 * existing key, else appends the pair. */
void yaml_doc_set(yaml_document_t *doc, int map, const char *key, int value);
/* The value's node id of key in mapping map, or 0. */
int yaml_doc_get(yaml_document_t *doc, int map, const char *key);
void yaml_doc_append(yaml_document_t *doc, int seq, int item);
/* The document as UTF-8 text after header (may be NULL), g_free it; doc
 * is consumed. NULL when libyaml cannot emit it. */
char *yaml_doc_dump(yaml_document_t *doc, const char *header);

#endif
