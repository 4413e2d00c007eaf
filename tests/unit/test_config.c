/* test_config.c - configuration loading: defaults, bounds, unknown names, and
 * errors that name the file, the line and the setting. */
#include "common/config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char path[64];

static const char *write_conf(const char *text)
{
    FILE *sf = fopen("/tmp/v.avsc", "a"); /* what TASK names; content irrelevant here */
    assert_non_null(sf);
    fclose(sf);
    snprintf(path, sizeof(path), "/tmp/mts-test-config-%d.conf", (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* The files a configuration names must exist: v.avsc next to the file
 * (created by the tests) and an output schema. */
#define TASK                                                                                       \
    "tasks = ( { name = \"v\"; topic = \"t.v\"; schema = \"v.avsc\"; label = \"viewed\"; } );\n"   \
    "output: { schema = \"/dev/null\"; };\n"

static void test_defaults_and_paths(void **state)
{
    (void)state;
    mts_config c;
    char err[512];
    assert_int_equal(
        config_load(write_conf(TASK "kafka: { bootstrap_servers = \"h:1\"; linger_ms = 5; };\n"),
                    &c, err, sizeof(err)),
        0);
    assert_int_equal(c.batch_size, 256);
    assert_int_equal(c.publish_interval_ms, 1000);
    assert_float_equal(c.lr_table, 0.3, 1e-9);
    assert_string_equal(c.framing, "confluent");
    assert_int_equal(c.n_tasks, 1);
    assert_string_equal(c.tasks[0].kind, "affinity");
    assert_string_equal(c.tasks[0].member, "member_id");
    assert_string_equal(c.tasks[0].schema_file, "/tmp/v.avsc"); /* relative to the file's folder */
    assert_string_equal(config_kafka_prop(&c, "bootstrap.servers"), "h:1");
    assert_string_equal(config_kafka_prop(&c, "linger.ms"), "5");
    assert_null(config_kafka_prop(&c, "acks"));
    assert_int_equal(config_task_by_topic(&c, "t.v"), 0);
    assert_int_equal(config_task_by_topic(&c, "other"), -1);
    config_free(&c);
}

/* Each bad file: the error must contain every expected fragment. */
static void test_errors_name_file_line_setting(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *want[3];
    } cases[] = {
        {TASK "input: { batch_size = 0; };\n", {":3: ", "input.batch_size", "out of range"}},
        {TASK "input: { batch_size = \"big\"; };\n", {":3: ", "input.batch_size", "integer"}},
        {TASK "input: { batchsize = 10; };\n", {":3: ", "input.batchsize", "unknown setting"}},
        {TASK "model: { lr_table = -1.0; };\n", {":3: ", "model.lr_table", "out of range"}},
        {TASK "service: { log_level = \"loud\"; };\n", {":3: ", "service.log_level", "loud"}},
        {"tasks = ( { name = \"v\"; topic = \"t\"; label = \"x\"; } );\n",
         {":1: ", "schema", NULL}},
        {"tasks = ( { name = \"v\"; topic = \"t\"; schema = \"s\"; label = \"x\"; kind = "
         "\"magic\"; } );\n",
         {":1: ", "magic", "affinity"}},
        {TASK "tasks2 = 1;\n", {":3: ", "tasks2", "unknown"}},
        {"input: { batch_size = = 10; };\n", {":1: ", "syntax error", NULL}},
        {"service: { status_interval_s = 5; };\n", {"tasks", "at least one", NULL}},
        {"tasks = ( { name = \"a\"; topic = \"t\"; schema = \"s\"; label = \"x\"; },\n"
         "          { name = \"a\"; topic = \"u\"; schema = \"s\"; label = \"x\"; } );\n",
         {":2: ", "declared twice", NULL}},
        {TASK "input: { framing = \"confluentt\"; };\n", {":3: ", "input.framing", "confluentt"}},
        {TASK "input: { schemas = ( { id = 1; file = \"a\"; }, { id = 1; file = \"b\"; } ); };\n",
         {":3: ", "listed twice", NULL}},
        {TASK "kafka: { bootstrap_servers = 1.5; };\n", {":3: ", "kafka.bootstrap_servers", NULL}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mts_config c;
        char err[512] = "";
        const char *p = write_conf(cases[i].text);
        int rc = config_load(p, &c, err, sizeof(err));
        config_free(&c);
        printf("  case %zu: %s\n", i, err);
        assert_int_equal(rc, -1);
        assert_non_null(strstr(err, p));
        for (int k = 0; k < 3; k++)
            if (cases[i].want[k] && !strstr(err, cases[i].want[k]))
                fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].want[k]);
    }
}

static void test_missing_named_file(void **state)
{
    (void)state;
    mts_config c;
    char err[512];
    const char *p = write_conf("tasks = ( { name = \"v\"; topic = \"t\"; label = \"x\";\n"
                               "            schema = \"nope.avsc\"; } );\n");
    int rc = config_load(p, &c, err, sizeof(err));
    config_free(&c);
    printf("  %s\n", err);
    assert_int_equal(rc, -2); /* its own exit code (66), not a configuration error */
    assert_non_null(strstr(err, ":2: tasks.schema: /tmp/nope.avsc: cannot read"));
}

static void test_missing_file(void **state)
{
    (void)state;
    mts_config c;
    char err[512];
    assert_int_equal(config_load("/nonexistent/mts.conf", &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/mts.conf"));
    config_free(&c);
}

static void test_sample_config_loads(void **state)
{
    (void)state;
    mts_config c;
    char err[512];
    int rc = config_load("conf/mtlstream.conf", &c, err, sizeof(err));
    if (rc)
        fail_msg("%s", err);
    assert_int_equal(c.n_tasks, 4);
    assert_int_equal(c.n_schema_ids, 4);
    assert_string_equal(c.tasks[3].kind, "skill");
    config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_paths),
        cmocka_unit_test(test_errors_name_file_line_setting),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_missing_named_file),
        cmocka_unit_test(test_sample_config_loads),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(path);
    return rc;
}
