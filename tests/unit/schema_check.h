/* schema_check.h - test helper: does a JSON object have the shape of an
 * Avro record schema (.avsc)? Header-only, for the unit tests.
 *
 * Checks every field of the record: present in the object, and a JSON
 * value of the field's type (Avro JSON without union wrappers: a union
 * value matches one of its branches). Also rejects keys that the schema
 * does not have. Returns 0, or -1 with the first mismatch in err. */
#ifndef MTS_TEST_SCHEMA_CHECK_H
#define MTS_TEST_SCHEMA_CHECK_H

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static int sc_value_matches(const json_t *type, const json_t *v)
{
    if (json_is_array(type)) { /* union */
        for (size_t i = 0; i < json_array_size(type); i++)
            if (sc_value_matches(json_array_get(type, i), v))
                return 1;
        return 0;
    }
    const char *t = json_is_string(type) ? json_string_value(type)
                                         : json_string_value(json_object_get(type, "type"));
    if (!t)
        return 0;
    if (!strcmp(t, "null"))
        return json_is_null(v);
    if (!strcmp(t, "boolean"))
        return json_is_boolean(v);
    if (!strcmp(t, "int"))
        return json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
               json_integer_value(v) <= INT32_MAX;
    if (!strcmp(t, "long"))
        return json_is_integer(v);
    if (!strcmp(t, "float") || !strcmp(t, "double"))
        return json_is_number(v);
    if (!strcmp(t, "string"))
        return json_is_string(v);
    if (!strcmp(t, "enum")) {
        const json_t *syms = json_object_get(type, "symbols");
        for (size_t i = 0; json_is_string(v) && i < json_array_size(syms); i++)
            if (!strcmp(json_string_value(json_array_get(syms, i)), json_string_value(v)))
                return 1;
        return 0;
    }
    if (!strcmp(t, "array")) {
        if (!json_is_array(v))
            return 0;
        for (size_t i = 0; i < json_array_size(v); i++)
            if (!sc_value_matches(json_object_get(type, "items"), json_array_get(v, i)))
                return 0;
        return 1;
    }
    return 0; /* types the event schemas do not use */
}

static int sc_check_record(const char *avsc_path, const json_t *obj, char *err, size_t errlen)
{
    json_error_t je;
    json_t *s = json_load_file(avsc_path, 0, &je);
    if (!s) {
        snprintf(err, errlen, "%s:%d: %s", avsc_path, je.line, je.text);
        return -1;
    }
    const json_t *fields = json_object_get(s, "fields");
    int rc = 0;
    size_t n = json_array_size(fields);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const json_t *f = json_array_get(fields, i);
        const char *name = json_string_value(json_object_get(f, "name"));
        const json_t *v = json_object_get(obj, name);
        if (!v) {
            snprintf(err, errlen, "%s: field %s missing", avsc_path, name);
            rc = -1;
        } else if (!sc_value_matches(json_object_get(f, "type"), v)) {
            char *txt = json_dumps(v, JSON_ENCODE_ANY);
            snprintf(err, errlen, "%s: field %s has the wrong type: %s", avsc_path, name, txt);
            free(txt);
            rc = -1;
        }
    }
    if (rc == 0 && json_object_size(obj) != n) {
        snprintf(err, errlen, "%s: object has %zu keys, schema %zu fields", avsc_path,
                 json_object_size(obj), n);
        rc = -1;
    }
    json_decref(s);
    return rc;
}

#endif
