/* test_ops.c - the operability pieces that need no broker: secrets never
 * reach a log line, the Prometheus writer escapes and formats, SIGHUP reload
 * applies and refuses the right settings, the metrics endpoint refuses
 * non-loopback addresses and serves the published snapshot. */
#include "common/config.h"
#include "common/log.h"
#include "common/metrics_http.h"
#include "common/prom.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

/* Run fn with stderr captured into buf. */
static void capture_stderr(void (*fn)(void), char *buf, size_t n)
{
    fflush(stderr);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(2);
    dup2(fileno(tmp), 2);
    fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t got = fread(buf, 1, n - 1, tmp);
    buf[got] = '\0';
    fclose(tmp);
}

static void log_with_secrets(void)
{
    log_notice("auth with pw=%s and again %s;", "p@ss-Word-42", "xx p@ss-Word-42 yy");
    log_err("librdkafka says: sasl.password = %s", "p@ss-Word-42");
    char big[2000]; /* secret right at the truncation edge of a 1024-byte line */
    memset(big, 'a', sizeof(big));
    memcpy(big + 1015, "p@ss-Word-42", 12);
    big[sizeof(big) - 1] = '\0';
    log_notice("%s", big);
}

static void test_log_redacts_secrets(void **state)
{
    (void)state;
    log_set_level(LOG_LVL_DEBUG);
    log_redact("p@ss-Word-42");
    log_redact("p@ss-Word-42"); /* twice: kept once */
    char out[8192];
    capture_stderr(log_with_secrets, out, sizeof(out));
    assert_null(strstr(out, "p@ss-Word-42"));
    assert_null(strstr(out, "p@ss-W")); /* not even its start at the cut */
    assert_non_null(strstr(out, "auth with pw=[redacted] and again xx [redacted] yy;"));
    assert_non_null(strstr(out, "sasl.password = [redacted]"));
}

static void test_config_registers_kafka_secrets(void **state)
{
    (void)state;
    char path[] = "/tmp/test_ops_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text =
        "kafka: { sasl_password = \"cfg-S3cret-77\"; sasl_username = \"u\"; };\n"
        "tasks = ( { name = \"v\"; topic = \"t\"; schema = \"/dev/null\"; label = \"y\"; } );\n"
        "output: { schema = \"/dev/null\"; };\n"; /* named files must exist */
    assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    mts_config c;
    char err[512];
    assert_int_equal(config_load(path, &c, err, sizeof(err)), 0);
    unlink(path);
    char out[4096];
    void log_cfg(void);
    capture_stderr(log_cfg, out, sizeof(out));
    assert_null(strstr(out, "cfg-S3cret-77"));
    assert_non_null(strstr(out, "value [redacted]"));
    config_free(&c);
}

void log_cfg(void)
{
    log_warn("value %s", "cfg-S3cret-77");
}

static void test_prom_format(void **state)
{
    (void)state;
    mts_buf b;
    buf_init(&b);
    prom_family(&b, "x_total", "counter", "a \\ help\nline");
    prom_sample(&b, "x_total", 12345678901.0, 2, "topic", "a\"b\\c\nd", "task", "t");
    prom_sample(&b, "x_total", 0.25, 0);
    prom_sample(&b, "x_total", NAN, 0);
    prom_sample(&b, "x_total", -INFINITY, 1, "k", "");
    buf_putc(&b, 0);
    assert_string_equal((const char *)b.data,
                        "# HELP x_total a \\\\ help\\nline\n"
                        "# TYPE x_total counter\n"
                        "x_total{topic=\"a\\\"b\\\\c\\nd\",task=\"t\"} 12345678901\n"
                        "x_total 0.25\n"
                        "x_total NaN\n"
                        "x_total{k=\"\"} -Inf\n");
    buf_free(&b);
}

static void write_conf(const char *path, int interval, const char *topic, double lw, int dim)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "service: { log_level = \"info\"; };\n"
            "output: { publish_interval_ms = %d; schema = \"/dev/null\"; };\n"
            "model: { dim = %d; };\n"
            "kafka: { bootstrap_servers = \"h:1\"; };\n"
            "tasks = ( { name = \"v\"; topic = \"%s\"; schema = \"/dev/null\"; label = \"y\"; "
            "loss_weight = %g; } );\n",
            interval, dim, topic, lw);
    fclose(f);
}

static void test_reload_applies_and_refuses(void **state)
{
    (void)state;
    char path[] = "/tmp/test_ops_reload_XXXXXX";
    close(mkstemp(path));
    mts_config live, fresh;
    char err[512];
    write_conf(path, 1000, "views", 1.0, 16);
    assert_int_equal(config_load(path, &live, err, sizeof(err)), 0);

    write_conf(path, 250, "views", 0.5, 16);
    assert_int_equal(config_load(path, &fresh, err, sizeof(err)), 0);
    config_reload_result r;
    assert_int_equal(config_reload(&live, &fresh, &r), 0);
    config_free(&fresh);
    assert_int_equal(r.applied, 2);
    assert_int_equal(r.refused, 0);
    assert_int_equal(r.loss_weights_changed, 1u);
    assert_int_equal(live.publish_interval_ms, 250);
    assert_true(live.tasks[0].loss_weight == 0.5);

    write_conf(path, 400, "views.renamed", 0.5, 32);
    assert_int_equal(config_load(path, &fresh, err, sizeof(err)), 0);
    assert_int_equal(config_reload(&live, &fresh, &r), 2); /* topic and model.dim */
    config_free(&fresh);
    assert_int_equal(r.applied, 1);
    assert_int_equal(live.publish_interval_ms, 400);
    assert_string_equal(live.tasks[0].topic, "views");
    assert_int_equal(live.dim, 16);
    unlink(path);
    config_free(&live);
}

static int http_get(int port, const char *path, char *out, size_t n)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
        return -1;
    char req[256];
    int len = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);
    assert_int_equal(write(fd, req, (size_t)len), len);
    size_t got = 0;
    ssize_t k;
    while (got < n - 1 && (k = read(fd, out + got, n - 1 - got)) > 0)
        got += (size_t)k;
    out[got] = '\0';
    close(fd);
    return 0;
}

static void test_metrics_http(void **state)
{
    (void)state;
    char err[512];
    assert_true(metrics_http_is_loopback("127.0.0.1"));
    assert_true(metrics_http_is_loopback("127.9.0.1"));
    assert_true(metrics_http_is_loopback("::1"));
    assert_false(metrics_http_is_loopback("0.0.0.0"));
    assert_false(metrics_http_is_loopback("10.1.2.3"));
    assert_null(metrics_http_start("0.0.0.0:0", 0, 1000, err, sizeof(err)));
    assert_non_null(strstr(err, "not a loopback address"));
    assert_null(metrics_http_start("127.0.0.1", 0, 1000, err, sizeof(err)));
    assert_null(metrics_http_start("127.0.0.1:99999", 0, 1000, err, sizeof(err)));
    assert_null(metrics_http_start("[::1", 0, 1000, err, sizeof(err)));

    metrics_http *h = metrics_http_start("127.0.0.1:0", 0, 5000, err, sizeof(err));
    assert_non_null(h);
    int port = metrics_http_port(h);
    assert_true(port > 0);
    char resp[4096];
    assert_int_equal(http_get(port, "/healthz", resp, sizeof(resp)), 0);
    assert_non_null(strstr(resp, " 503 ")); /* nothing published yet */
    const char *m = "# HELP a_total x\n# TYPE a_total counter\na_total 7\n";
    metrics_http_publish(h, m, strlen(m), "{\"ready\":true}", 1);
    assert_int_equal(http_get(port, "/metrics", resp, sizeof(resp)), 0);
    assert_non_null(strstr(resp, " 200 "));
    assert_non_null(strstr(resp, "text/plain; version=0.0.4"));
    assert_non_null(strstr(resp, "\r\n\r\n# HELP a_total x\n# TYPE a_total counter\na_total 7\n"));
    assert_int_equal(http_get(port, "/healthz", resp, sizeof(resp)), 0);
    assert_non_null(strstr(resp, " 200 "));
    assert_non_null(strstr(resp, "{\"ready\":true,\"snapshot_age_ms\":"));
    assert_int_equal(http_get(port, "/other", resp, sizeof(resp)), 0);
    assert_non_null(strstr(resp, " 404 "));
    metrics_http_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_redacts_secrets),
        cmocka_unit_test(test_config_registers_kafka_secrets),
        cmocka_unit_test(test_prom_format),
        cmocka_unit_test(test_reload_applies_and_refuses),
        cmocka_unit_test(test_metrics_http),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
