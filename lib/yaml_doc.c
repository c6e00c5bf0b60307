#include "yaml_doc.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

int yaml_doc_load(yaml_document_t *doc, const char *text, size_t len, char *problem,
                  size_t problem_len)
{
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int ok = yaml_parser_load(&parser, doc);
    if (!ok)
        snprintf(problem, problem_len, "line %zu: %s", parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "invalid YAML");
    else if (yaml_document_get_root_node(doc)) {
        /* A second document after "---" is not one user-data. */
        yaml_document_t next;
        if (yaml_parser_load(&parser, &next)) {
            if (yaml_document_get_root_node(&next)) {
                snprintf(problem, problem_len, "more than one YAML document");
                ok = 0;
            }
            yaml_document_delete(&next);
        } else {
            snprintf(problem, problem_len, "line %zu: %s", parser.problem_mark.line + 1,
                     parser.problem ? parser.problem : "invalid YAML");
            ok = 0;
        }
        if (!ok)
            yaml_document_delete(doc);
    }
    yaml_parser_delete(&parser);
    return ok ? 0 : -1;
}

void yaml_doc_new(yaml_document_t *doc)
{
    yaml_document_initialize(doc, NULL, NULL, NULL, 1, 1);
}

int yaml_doc_str(yaml_document_t *doc, const char *value)
{
    return yaml_document_add_scalar(doc, (yaml_char_t *)YAML_STR_TAG, (yaml_char_t *)value, -1,
                                    YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

int yaml_doc_int(yaml_document_t *doc, long long value)
{
    char text[32];
    snprintf(text, sizeof text, "%lld", value);
    return yaml_document_add_scalar(doc, (yaml_char_t *)YAML_INT_TAG, (yaml_char_t *)text, -1,
                                    YAML_PLAIN_SCALAR_STYLE);
}

int yaml_doc_bool(yaml_document_t *doc, int value)
{
    return yaml_document_add_scalar(doc, (yaml_char_t *)YAML_BOOL_TAG,
                                    (yaml_char_t *)(value ? "true" : "false"), -1,
                                    YAML_PLAIN_SCALAR_STYLE);
}

int yaml_doc_map(yaml_document_t *doc)
{
    return yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE);
}

int yaml_doc_seq(yaml_document_t *doc)
{
    return yaml_document_add_sequence(doc, NULL, YAML_BLOCK_SEQUENCE_STYLE);
}

static yaml_node_pair_t *find_pair(yaml_document_t *doc, int map, const char *key)
{
    yaml_node_t *node = yaml_document_get_node(doc, map);
    if (!node || node->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == strlen(key) &&
            !memcmp(k->data.scalar.value, key, k->data.scalar.length))
            return p;
    }
    return NULL;
}

void yaml_doc_set(yaml_document_t *doc, int map, const char *key, int value)
{
    yaml_node_pair_t *pair = find_pair(doc, map, key);
    if (pair) {
        pair->value = value;
        return;
    }
    int k = yaml_document_add_scalar(doc, (yaml_char_t *)YAML_STR_TAG, (yaml_char_t *)key, -1,
                                     YAML_PLAIN_SCALAR_STYLE);
    yaml_document_append_mapping_pair(doc, map, k, value);
}

int yaml_doc_get(yaml_document_t *doc, int map, const char *key)
{
    yaml_node_pair_t *pair = find_pair(doc, map, key);
    return pair ? pair->value : 0;
}

void yaml_doc_append(yaml_document_t *doc, int seq, int item)
{
    yaml_document_append_sequence_item(doc, seq, item);
}

static int write_string(void *data, unsigned char *buffer, size_t size)
{
    g_string_append_len(data, (const char *)buffer, (gssize)size);
    return 1;
}

char *yaml_doc_dump(yaml_document_t *doc, const char *header)
{
    GString *out = g_string_new(header ? header : "");
    yaml_emitter_t emitter;
    yaml_emitter_initialize(&emitter);
    yaml_emitter_set_output(&emitter, write_string, out);
    yaml_emitter_set_unicode(&emitter, 1);
    yaml_emitter_set_width(&emitter, -1);   /* long keys stay on one line */
    /* yaml_emitter_dump consumes the document, even when it fails. */
    int opened = yaml_emitter_open(&emitter);
    if (!opened)
        yaml_document_delete(doc);
    int ok = opened && yaml_emitter_dump(&emitter, doc) && yaml_emitter_close(&emitter) &&
             yaml_emitter_flush(&emitter);
    yaml_emitter_delete(&emitter);
    return g_string_free(out, !ok);
}
