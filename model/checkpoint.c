/* checkpoint.c - see checkpoint.h for the format and the guarantees.
 *
 * Writing builds one section at a time in a buffer (header, payload, CRC)
 * and writes it out, so memory grows by the largest section (a table), not
 * the whole file. Reading maps the whole file into memory, walks the section
 * list checking lengths and CRCs first, and only then decodes: a reader
 * cursor (rd) refuses to step past its section and remembers the first
 * failure, so decoding code reads straight through and checks once.
 * Numbers are stored in the host's byte order, which must be little-endian
 * (checked at compile time): the format is little-endian by definition. */
#include "model/checkpoint.h"

#include "common/avro.h"
#include "common/util.h"
#include "model/model_impl.h"
#include "model/model_mtl.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "checkpoint format is little-endian");

static const char MAGIC[8] = {'M', 'T', 'S', 'C', 'K', 'P', 'T', '\n'};
enum {
    SEC_META = 1,
    SEC_OFFSETS = 2,
    SEC_METRICS = 3,
    SEC_AFFINITY = 4,
    SEC_SKILL = 5,
    SEC_MTL = 6,
    SEC_END = 0x21444e45
};
#define MAX_FILE_BYTES (64ULL << 30)

/* ------------------------------------------------------------------------ */
/* meta */

void ckpt_meta_init(ckpt_meta *m)
{
    memset(m, 0, sizeof(*m));
}

void ckpt_meta_free(ckpt_meta *m)
{
    free(m->parts);
    memset(m, 0, sizeof(*m));
}

ckpt_partition *ckpt_meta_part(ckpt_meta *m, const char *topic, int32_t partition, int create)
{
    for (int i = 0; i < m->n_parts; i++)
        if (m->parts[i].partition == partition && !strcmp(m->parts[i].topic, topic))
            return &m->parts[i];
    if (!create || strlen(topic) >= CKPT_MAX_TOPIC)
        return NULL;
    if (m->n_parts == m->cap_parts) {
        m->cap_parts = m->cap_parts ? 2 * m->cap_parts : 16;
        m->parts = xrealloc(m->parts, (size_t)m->cap_parts * sizeof(ckpt_partition));
    }
    ckpt_partition *p = &m->parts[m->n_parts++];
    memset(p, 0, sizeof(*p));
    snprintf(p->topic, sizeof(p->topic), "%s", topic);
    p->partition = partition;
    p->next_offset = -1;
    return p;
}

void checkpoint_config_text(const model_config *c, char *out, size_t len)
{
    mts_buf b;
    buf_init(&b);
    char tmp[512];
    if (c->mtl_file[0]) { /* declared network: its structure is checked by its own section */
        int n = snprintf(tmp, sizeof(tmp), "multitask=declared;metrics_window=%d;tasks=%d;",
                         c->metrics_window, c->n_tasks);
        buf_append(&b, tmp, (size_t)n);
        for (int t = 0; t < c->n_tasks && t < MODEL_MAX_TASKS; t++) {
            n = snprintf(tmp, sizeof(tmp), "task%d=%.63s;", t, c->tasks[t].name);
            buf_append(&b, tmp, (size_t)n);
        }
        goto done;
    }
    int n = snprintf(tmp, sizeof(tmp),
                     "dim=%d;id_dim=%d;hidden=%d;table_capacity=%d;seed=%" PRIu64
                     ";skill_dim=%d;ngram_buckets=%d;metrics_window=%d;tasks=%d;",
                     c->dim, c->id_dim, c->hidden, c->table_capacity, c->seed, c->skill_dim,
                     c->ngram_buckets, c->metrics_window, c->n_tasks);
    buf_append(&b, tmp, (size_t)n);
    for (int t = 0; t < c->n_tasks && t < MODEL_MAX_TASKS; t++) {
        const model_task_config *tc = &c->tasks[t];
        n = snprintf(tmp, sizeof(tmp), "task%d=%.63s,%s,%.63s,%.63s,%.63s;", t, tc->name,
                     tc->kind == TASK_SKILL ? "skill" : "affinity", tc->label_field,
                     tc->kind == TASK_SKILL ? "" : tc->member_field,
                     tc->kind == TASK_SKILL ? "" : tc->company_field);
        buf_append(&b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
    }
done:;
    size_t k = b.len < len - 1 ? b.len : len - 1;
    memcpy(out, b.data, k);
    out[k] = '\0';
    buf_free(&b);
}

/* ------------------------------------------------------------------------ */
/* writing */

static void put_u32(mts_buf *b, uint32_t v)
{
    buf_append(b, &v, 4);
}
static void put_u64(mts_buf *b, uint64_t v)
{
    buf_append(b, &v, 8);
}
static void put_i64(mts_buf *b, int64_t v)
{
    buf_append(b, &v, 8);
}
static void put_f64(mts_buf *b, double v)
{
    buf_append(b, &v, 8);
}
static void put_str(mts_buf *b, const char *s)
{
    size_t n = strlen(s);
    put_u32(b, (uint32_t)n);
    buf_append(b, s, n);
}

typedef struct {
    int fd;
    const char *path;
    uint64_t written; /* bytes so far */
    uint32_t sections;
    mts_buf sec;
    int failed;
    char *err;
    size_t errlen;
} writer;

static int write_all(writer *w, const void *p, size_t n)
{
    const uint8_t *c = p;
    while (n > 0 && !w->failed) {
        ssize_t k = write(w->fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            snprintf(w->err, w->errlen, "writing %s: %s", w->path,
                     k < 0 ? strerror(errno) : "short write");
            w->failed = 1;
            return -1;
        }
        c += k;
        n -= (size_t)k;
        w->written += (uint64_t)k;
    }
    return w->failed ? -1 : 0;
}

static void sec_begin(writer *w, uint32_t tag)
{
    buf_reset(&w->sec);
    put_u32(&w->sec, tag);
    put_u32(&w->sec, 0);
    put_u64(&w->sec, 0); /* length, patched in sec_end */
}

static int sec_end(writer *w)
{
    uint64_t len = w->sec.len - 16;
    memcpy(w->sec.data + 8, &len, 8);
    put_u64(&w->sec, av_crc64(w->sec.data, w->sec.len));
    w->sections++;
    return write_all(w, w->sec.data, w->sec.len);
}

static void put_table(mts_buf *b, const embtable *t)
{
    size_t n = t->n, d = (size_t)t->dim;
    put_u32(b, (uint32_t)t->dim);
    put_u32(b, t->capacity);
    put_u32(b, t->n);
    put_u64(b, t->refused);
    buf_append(b, t->ids, n * sizeof(int64_t));
    buf_append(b, t->w, n * d * sizeof(float));
    buf_append(b, t->acc, n * sizeof(float));
    buf_append(b, t->events, n * sizeof(uint64_t));
    put_u32(b, t->n_dirty);
    buf_append(b, t->dirty_list, (size_t)t->n_dirty * sizeof(uint32_t));
}

/* Parameters, Adam's step and both moments (the gradients are scratch). */
static void put_dense(mts_buf *b, const float *mem, size_t n_params, const adam_state *a)
{
    put_u64(b, n_params);
    put_i64(b, a->t);
    buf_append(b, mem, n_params * sizeof(float));
    buf_append(b, mem + 2 * n_params, 2 * n_params * sizeof(float));
}

static void put_auc(mts_buf *b, const auc_stream *a)
{
    put_u32(b, a->window);
    put_u64(b, a->n);
    put_u64(b, a->npos);
    put_f64(b, a->logloss_sum);
    put_u32(b, a->wn);
    put_u32(b, a->whead);
    buf_append(b, a->pos, sizeof(a->pos));
    buf_append(b, a->neg, sizeof(a->neg));
    buf_append(b, a->wpos, sizeof(a->wpos));
    buf_append(b, a->wneg, sizeof(a->wneg));
    buf_append(b, a->ring_bin, (size_t)a->window * sizeof(uint16_t));
    buf_append(b, a->ring_label, a->window);
    buf_append(b, a->ring_loss, (size_t)a->window * sizeof(float));
}

static void write_sections(writer *w, const mts_model *m, const ckpt_meta *meta)
{
    mts_buf *b = &w->sec;
    char cfg_text[CKPT_MAX_CONFIG_TEXT];
    checkpoint_config_text(&m->cfg, cfg_text, sizeof(cfg_text));

    sec_begin(w, SEC_META);
    put_i64(b, meta->created_ms);
    put_u64(b, meta->sequence);
    put_str(b, cfg_text);
    put_u32(b, (uint32_t)m->cfg.n_tasks);
    for (int t = 0; t < m->cfg.n_tasks; t++) {
        put_u64(b, t < meta->n_tasks ? meta->schema_fp[t] : 0);
        put_u64(b, meta->task_learned[t]);
        put_u64(b, meta->task_dead[t]);
    }
    put_u64(b, model_entity_count(m, ENTITY_MEMBER));
    put_u64(b, model_entity_count(m, ENTITY_COMPANY));
    if (sec_end(w))
        return;

    sec_begin(w, SEC_OFFSETS);
    put_u32(b, (uint32_t)meta->n_parts);
    for (int i = 0; i < meta->n_parts; i++) {
        const ckpt_partition *p = &meta->parts[i];
        put_str(b, p->topic);
        put_u32(b, (uint32_t)p->partition);
        put_i64(b, p->next_offset);
        put_u64(b, p->learned);
        put_u64(b, p->dead_lettered);
    }
    if (sec_end(w))
        return;

    sec_begin(w, SEC_METRICS);
    put_u64(b, m->rejected);
    put_u32(b, (uint32_t)m->cfg.n_tasks);
    for (int t = 0; t < m->cfg.n_tasks; t++) {
        put_u64(b, m->skipped[t]);
        put_auc(b, &m->metrics[t]);
    }
    if (sec_end(w))
        return;

    if (m->has_affinity) {
        const affinity *a = &m->aff;
        sec_begin(w, SEC_AFFINITY);
        put_u32(b, (uint32_t)a->E);
        put_u32(b, (uint32_t)a->H);
        put_u32(b, (uint32_t)a->D);
        put_u32(b, (uint32_t)a->T);
        put_dense(b, a->mem, a->n_params, &a->adam);
        put_table(b, &a->members);
        put_table(b, &a->companies);
        if (sec_end(w))
            return;
    }
    if (m->has_skill) {
        const skill *s = &m->sk;
        sec_begin(w, SEC_SKILL);
        put_u32(b, (uint32_t)s->K);
        put_u32(b, (uint32_t)s->H);
        put_u32(b, s->buckets);
        put_u32(b, (uint32_t)s->n_domains);
        for (int d = 0; d < s->n_domains; d++)
            put_str(b, s->domains[d]);
        put_u64(b, s->domains_refused);
        put_dense(b, s->mem, s->n_params, &s->adam);
        put_table(b, &s->entities);
        put_table(b, &s->ngrams);
        if (sec_end(w))
            return;
    }
    if (m->net) {
        sec_begin(w, SEC_MTL);
        mtlm_save(m, b);
        if (sec_end(w))
            return;
    }
    uint64_t before = w->written;
    uint32_t count = w->sections;
    sec_begin(w, SEC_END);
    put_u32(b, count);
    put_u64(b, before);
    sec_end(w);
}

int checkpoint_write_file(const char *path, const mts_model *m, const ckpt_meta *meta, char *err,
                          size_t errlen)
{
    writer w = {.path = path, .err = err, .errlen = errlen};
    w.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (w.fd < 0) {
        snprintf(err, errlen, "creating %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(w.fd, &st) == 0 && S_ISREG(st.st_mode) && fchmod(w.fd, 0600) < 0) {
        snprintf(err, errlen, "chmod 0600 %s: %s", path, strerror(errno));
        close(w.fd);
        return -1;
    }
    buf_init(&w.sec);
    uint8_t hdr[24];
    uint32_t version = CKPT_VERSION, zero = 0;
    memcpy(hdr, MAGIC, 8);
    memcpy(hdr + 8, &version, 4);
    memcpy(hdr + 12, &zero, 4);
    uint64_t crc = av_crc64(hdr, 16);
    memcpy(hdr + 16, &crc, 8);
    if (write_all(&w, hdr, sizeof(hdr)) == 0)
        write_sections(&w, m, meta);
    buf_free(&w.sec);
    if (!w.failed && fsync(w.fd) < 0) {
        snprintf(err, errlen, "fsync %s: %s", path, strerror(errno));
        w.failed = 1;
    }
    if (close(w.fd) < 0 && !w.failed) {
        snprintf(err, errlen, "closing %s: %s", path, strerror(errno));
        w.failed = 1;
    }
    return w.failed ? -1 : 0;
}

static int fsync_dir(const char *dir, char *err, size_t errlen)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0) {
        snprintf(err, errlen, "fsync of directory %s: %s", dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int checkpoint_save(const char *dir, const mts_model *m, const ckpt_meta *meta, char *err,
                    size_t errlen)
{
    char tmp[4096], cur[4096], prev[4096];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s/%s", dir, CKPT_TMP_NAME) >= sizeof(tmp)) {
        snprintf(err, errlen, "state directory name too long");
        return -1;
    }
    snprintf(cur, sizeof(cur), "%s/%s", dir, CKPT_NAME);
    snprintf(prev, sizeof(prev), "%s/%s", dir, CKPT_PREV_NAME);
    if (checkpoint_write_file(tmp, m, meta, err, errlen) < 0) {
        struct stat
            st; /* drop a partial file; leave anything else (a test's /dev/full link) alone */
        if (lstat(tmp, &st) == 0 && S_ISREG(st.st_mode))
            unlink(tmp);
        return -1;
    }
    if (access(cur, F_OK) == 0) { /* keep the previous good one under its own name */
        if (unlink(prev) < 0 && errno != ENOENT) {
            snprintf(err, errlen, "removing %s: %s", prev, strerror(errno));
            return -1;
        }
        if (link(cur, prev) < 0) {
            snprintf(err, errlen, "linking %s to %s: %s", cur, prev, strerror(errno));
            return -1;
        }
    }
    if (rename(tmp, cur) < 0) {
        snprintf(err, errlen, "renaming %s to %s: %s", tmp, cur, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return fsync_dir(dir, err, errlen);
}

/* ------------------------------------------------------------------------ */
/* reading */

typedef struct {
    const uint8_t *p;
    size_t len, pos;
    int bad;
} rd;

static int need(rd *r, size_t n)
{
    if (r->bad || n > r->len - r->pos) {
        r->bad = 1;
        return 0;
    }
    return 1;
}

static uint32_t get_u32(rd *r)
{
    uint32_t v = 0;
    if (need(r, 4)) {
        memcpy(&v, r->p + r->pos, 4);
        r->pos += 4;
    }
    return v;
}

static uint64_t get_u64(rd *r)
{
    uint64_t v = 0;
    if (need(r, 8)) {
        memcpy(&v, r->p + r->pos, 8);
        r->pos += 8;
    }
    return v;
}

static int64_t get_i64(rd *r)
{
    return (int64_t)get_u64(r);
}

static double get_f64(rd *r)
{
    uint64_t u = get_u64(r);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* count items of size bytes; count is checked against the bytes left before
 * anything is multiplied, so a huge count cannot overflow. */
static void get_arr(rd *r, void *dst, uint64_t count, size_t size)
{
    if (r->bad || count > (r->len - r->pos) / size) {
        r->bad = 1;
        return;
    }
    if (dst)
        memcpy(dst, r->p + r->pos, (size_t)count * size);
    r->pos += (size_t)count * size;
}

static void get_str(rd *r, char *dst, size_t cap)
{
    uint32_t n = get_u32(r);
    if (r->bad || n >= cap || !need(r, n)) {
        r->bad = 1;
        dst[0] = '\0';
        return;
    }
    memcpy(dst, r->p + r->pos, n);
    dst[n] = '\0';
    r->pos += n;
    if (memchr(dst, '\0', n))
        r->bad = 1;
}

static int all_finite(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

typedef struct {
    const uint8_t *p;
    size_t len;
} span;

typedef struct {
    uint8_t *data;
    size_t size;
    span sec[7]; /* by tag (1..6); p == NULL when absent */
} ckpt_file;

#define FAIL(st, ...)                                                                              \
    do {                                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                                        \
        return st;                                                                                 \
    } while (0)

/* Read the whole file and check its structure and every checksum. */
static ckpt_status read_file(const char *path, ckpt_file *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof(*f));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            FAIL(CKPT_NONE, "%s: no such file", path);
        FAIL(CKPT_IOERR, "opening %s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_FILE_BYTES) {
        close(fd);
        FAIL(CKPT_IOERR, "%s: not a regular file of at most %llu bytes", path,
             (unsigned long long)MAX_FILE_BYTES);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *data = xmalloc(size ? size : 1);
    size_t got = 0;
    while (got < size) {
        ssize_t k = read(fd, data + got, size - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int e = errno;
            close(fd);
            free(data);
            FAIL(CKPT_IOERR, "reading %s: %s", path,
                 k < 0 ? strerror(e) : "file shrank while reading");
        }
        got += (size_t)k;
    }
    close(fd);
    f->data = data;
    f->size = size;
    if (size < 24 || memcmp(data, MAGIC, 8))
        FAIL(CKPT_CORRUPT, "%s: not a mtlstream checkpoint (bad magic or shorter than its header)",
             path);
    uint32_t version;
    uint64_t crc;
    memcpy(&version, data + 8, 4);
    memcpy(&crc, data + 16, 8);
    if (crc != av_crc64(data, 16))
        FAIL(CKPT_CORRUPT, "%s: header checksum mismatch", path);
    if (version != CKPT_VERSION)
        FAIL(CKPT_CORRUPT, "%s: format version %u, this program reads version %d", path, version,
             CKPT_VERSION);
    size_t pos = 24;
    uint32_t count = 0;
    for (;;) {
        if (size - pos < 24)
            FAIL(CKPT_CORRUPT, "%s: truncated at byte %zu (section header or end marker missing)",
                 path, pos);
        uint32_t tag;
        uint64_t len;
        memcpy(&tag, data + pos, 4);
        memcpy(&len, data + pos + 8, 8);
        if (len > size - pos - 24)
            FAIL(CKPT_CORRUPT,
                 "%s: section at byte %zu claims %" PRIu64 " bytes, only %zu left (truncated?)",
                 path, pos, len, size - pos - 24);
        memcpy(&crc, data + pos + 16 + len, 8);
        if (crc != av_crc64(data + pos, 16 + (size_t)len))
            FAIL(CKPT_CORRUPT, "%s: checksum mismatch in the section at byte %zu (tag %u)", path,
                 pos, tag);
        const uint8_t *payload = data + pos + 16;
        size_t start = pos;
        pos += 24 + (size_t)len;
        if (tag == SEC_END) {
            uint32_t n;
            uint64_t before;
            if (len != 12)
                FAIL(CKPT_CORRUPT, "%s: bad end marker", path);
            memcpy(&n, payload, 4);
            memcpy(&before, payload + 4, 8);
            if (n != count || before != start)
                FAIL(CKPT_CORRUPT,
                     "%s: end marker says %u sections in %" PRIu64 " bytes, found %u in %zu", path,
                     n, before, count, start);
            if (pos != size)
                FAIL(CKPT_CORRUPT, "%s: %zu unexpected bytes after the end marker", path,
                     size - pos);
            break;
        }
        if (tag < SEC_META || tag > SEC_MTL)
            FAIL(CKPT_CORRUPT, "%s: unknown section tag %u at byte %zu", path, tag, start);
        if (f->sec[tag].p)
            FAIL(CKPT_CORRUPT, "%s: section %u appears twice", path, tag);
        f->sec[tag].p = payload;
        f->sec[tag].len = (size_t)len;
        count++;
    }
    if (!f->sec[SEC_META].p || !f->sec[SEC_OFFSETS].p || !f->sec[SEC_METRICS].p)
        FAIL(CKPT_CORRUPT, "%s: a required section (meta, offsets, metrics) is missing", path);
    return CKPT_OK;
}

static rd reader_of(const ckpt_file *f, int tag)
{
    rd r = {f->sec[tag].p, f->sec[tag].len, 0, 0};
    return r;
}

static ckpt_status parse_meta(const char *path, const ckpt_file *f, ckpt_meta *meta,
                              uint64_t entities[2], char *err, size_t errlen)
{
    rd r = reader_of(f, SEC_META);
    meta->created_ms = get_i64(&r);
    meta->sequence = get_u64(&r);
    get_str(&r, meta->config_text, sizeof(meta->config_text));
    uint32_t nt = get_u32(&r);
    if (!r.bad && (nt < 1 || nt > MODEL_MAX_TASKS))
        FAIL(CKPT_CORRUPT, "%s: meta: %u tasks", path, nt);
    meta->n_tasks = (int)nt;
    for (uint32_t t = 0; t < nt && !r.bad; t++) {
        meta->schema_fp[t] = get_u64(&r);
        meta->task_learned[t] = get_u64(&r);
        meta->task_dead[t] = get_u64(&r);
    }
    entities[0] = get_u64(&r);
    entities[1] = get_u64(&r);
    if (r.bad || r.pos != r.len)
        FAIL(CKPT_CORRUPT, "%s: meta section malformed", path);

    r = reader_of(f, SEC_OFFSETS);
    uint32_t np = get_u32(&r);
    if (r.bad || np > CKPT_MAX_PARTITIONS)
        FAIL(CKPT_CORRUPT, "%s: offsets: %u partitions", path, np);
    for (uint32_t i = 0; i < np; i++) {
        char topic[CKPT_MAX_TOPIC];
        get_str(&r, topic, sizeof(topic));
        int32_t part = (int32_t)get_u32(&r);
        int64_t next = get_i64(&r);
        uint64_t learned = get_u64(&r), dead = get_u64(&r);
        if (r.bad)
            break;
        if (!topic[0] || part < 0 || next < -1 || ckpt_meta_part(meta, topic, part, 0))
            FAIL(CKPT_CORRUPT, "%s: offsets: bad or repeated entry %s [%d] @%" PRId64, path, topic,
                 part, next);
        ckpt_partition *p = ckpt_meta_part(meta, topic, part, 1);
        p->next_offset = next;
        p->learned = learned;
        p->dead_lettered = dead;
    }
    if (r.bad || r.pos != r.len)
        FAIL(CKPT_CORRUPT, "%s: offsets section malformed", path);
    return CKPT_OK;
}

/* Restore a table into t (fresh, same dim and capacity as the file's). */
static int get_table(rd *r, embtable *t, const char *what, char *err, size_t errlen)
{
    uint32_t dim = get_u32(r), cap = get_u32(r), n = get_u32(r);
    uint64_t refused = get_u64(r);
    if (r->bad || (int)dim != t->dim || cap != t->capacity || n > cap) {
        snprintf(err, errlen,
                 "%s table: width %u, capacity %u, %u rows (expected width %d, capacity %u)", what,
                 dim, cap, n, t->dim, t->capacity);
        r->bad = 1;
        return -1;
    }
    size_t d = (size_t)dim;
    size_t ids_at = r->pos;
    get_arr(r, NULL, n, sizeof(int64_t));
    size_t w_at = r->pos;
    get_arr(r, NULL, (uint64_t)n * d, sizeof(float));
    size_t acc_at = r->pos;
    get_arr(r, NULL, n, sizeof(float));
    size_t ev_at = r->pos;
    get_arr(r, NULL, n, sizeof(uint64_t));
    uint32_t nd = get_u32(r);
    if (r->bad || nd > n) {
        snprintf(err, errlen, "%s table: truncated or %u dirty rows of %u", what, nd, n);
        r->bad = 1;
        return -1;
    }
    size_t dl_at = r->pos;
    get_arr(r, NULL, nd, sizeof(uint32_t));
    if (r->bad) {
        snprintf(err, errlen, "%s table: truncated", what);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        int64_t id;
        memcpy(&id, r->p + ids_at + (size_t)i * 8, 8);
        if (embtable_get(t, id) != (int32_t)i) {
            snprintf(err, errlen, "%s table: id %" PRId64 " appears twice", what, id);
            r->bad = 1;
            return -1;
        }
    }
    if (n) {
        memcpy(t->w, r->p + w_at, (size_t)n * d * sizeof(float));
        memcpy(t->acc, r->p + acc_at, (size_t)n * sizeof(float));
        memcpy(t->events, r->p + ev_at, (size_t)n * sizeof(uint64_t));
    }
    if (!all_finite(t->w, (size_t)n * d) || !all_finite(t->acc, n)) {
        snprintf(err, errlen, "%s table: non-finite values", what);
        r->bad = 1;
        return -1;
    }
    for (uint32_t i = 0; i < n; i++)
        if (t->acc[i] < 0) {
            snprintf(err, errlen, "%s table: negative Adagrad accumulator", what);
            r->bad = 1;
            return -1;
        }
    for (uint32_t k = 0; k < nd; k++) {
        uint32_t row;
        memcpy(&row, r->p + dl_at + (size_t)k * 4, 4);
        if (row >= n || t->dirty[row]) {
            snprintf(err, errlen, "%s table: bad dirty row %u", what, row);
            r->bad = 1;
            return -1;
        }
        t->dirty[row] = 1;
        t->dirty_list[t->n_dirty++] = row;
    }
    t->refused = refused;
    return 0;
}

static int get_dense(rd *r, float *mem, size_t n_params, adam_state *a, const char *what, char *err,
                     size_t errlen)
{
    uint64_t n = get_u64(r);
    int64_t t = get_i64(r);
    if (r->bad || n != n_params || t < 0) {
        snprintf(err, errlen, "%s: %" PRIu64 " dense parameters (expected %zu), Adam step %" PRId64,
                 what, n, n_params, t);
        r->bad = 1;
        return -1;
    }
    get_arr(r, mem, n, sizeof(float));
    get_arr(r, mem + 2 * n_params, 2 * n, sizeof(float));
    if (r->bad || !all_finite(mem, n_params) || !all_finite(mem + 2 * n_params, 2 * n_params)) {
        snprintf(err, errlen, "%s: dense parameters truncated or not finite", what);
        r->bad = 1;
        return -1;
    }
    for (size_t i = 0; i < n_params; i++)
        if (mem[3 * n_params + i] < 0) {
            snprintf(err, errlen, "%s: negative Adam second moment", what);
            r->bad = 1;
            return -1;
        }
    a->t = (long)t;
    return 0;
}

static int get_auc(rd *r, auc_stream *a, int t, char *err, size_t errlen)
{
    uint32_t window = get_u32(r);
    if (r->bad || window != a->window) {
        snprintf(err, errlen, "task %d metrics: window %u, expected %u", t, window, a->window);
        r->bad = 1;
        return -1;
    }
    a->n = get_u64(r);
    a->npos = get_u64(r);
    a->logloss_sum = get_f64(r);
    a->wn = get_u32(r);
    a->whead = get_u32(r);
    get_arr(r, a->pos, AUC_BINS, sizeof(uint64_t));
    get_arr(r, a->neg, AUC_BINS, sizeof(uint64_t));
    get_arr(r, a->wpos, AUC_BINS, sizeof(uint64_t));
    get_arr(r, a->wneg, AUC_BINS, sizeof(uint64_t));
    get_arr(r, a->ring_bin, window, sizeof(uint16_t));
    get_arr(r, a->ring_label, window, 1);
    get_arr(r, a->ring_loss, window, sizeof(float));
    if (r->bad) {
        snprintf(err, errlen, "task %d metrics: truncated", t);
        return -1;
    }
    uint64_t sp = 0, sn = 0, sw = 0;
    for (int b = 0; b < AUC_BINS; b++) {
        sp += a->pos[b];
        sn += a->neg[b];
        sw += a->wpos[b] + a->wneg[b];
    }
    int ok = sp == a->npos && sp + sn == a->n && isfinite(a->logloss_sum) && a->logloss_sum >= 0 &&
             a->wn <= window && (window ? a->whead < window : a->whead == 0) && sw == a->wn;
    for (uint32_t i = 0; ok && i < window; i++)
        ok = a->ring_bin[i] < AUC_BINS && a->ring_label[i] <= 1 && isfinite(a->ring_loss[i]);
    if (!ok) {
        snprintf(err, errlen, "task %d metrics: inconsistent histograms", t);
        r->bad = 1;
        return -1;
    }
    return 0;
}

static ckpt_status restore_model(const char *path, const ckpt_file *f, mts_model *m,
                                 const uint64_t entities[2], char *err, size_t errlen)
{
    char e[512] = "";
    rd r = reader_of(f, SEC_METRICS);
    m->rejected = get_u64(&r);
    uint32_t nt = get_u32(&r);
    if (r.bad || (int)nt != m->cfg.n_tasks)
        FAIL(CKPT_CORRUPT, "%s: metrics section malformed", path);
    for (int t = 0; t < m->cfg.n_tasks; t++) {
        m->skipped[t] = get_u64(&r);
        if (get_auc(&r, &m->metrics[t], t, e, sizeof(e)))
            FAIL(CKPT_CORRUPT, "%s: %s", path, e);
    }
    if (r.pos != r.len)
        FAIL(CKPT_CORRUPT, "%s: metrics section has trailing bytes", path);

    if (!!f->sec[SEC_MTL].p != !!m->net)
        FAIL(CKPT_MISMATCH, "%s: written %s a declared multitask network, the configuration %s one",
             path, f->sec[SEC_MTL].p ? "with" : "without", m->net ? "declares" : "declares none");
    if (m->net) {
        if (mtlm_load(m, f->sec[SEC_MTL].p, f->sec[SEC_MTL].len, e, sizeof(e)))
            FAIL(strstr(e, "another network declaration") ? CKPT_MISMATCH : CKPT_CORRUPT, "%s: %s",
                 path, e);
        if (model_entity_count(m, ENTITY_MEMBER) != entities[0] ||
            model_entity_count(m, ENTITY_COMPANY) != entities[1])
            FAIL(CKPT_CORRUPT, "%s: entity counts in meta differ from the tables", path);
    }
    if (!!f->sec[SEC_AFFINITY].p != m->has_affinity || !!f->sec[SEC_SKILL].p != m->has_skill)
        FAIL(CKPT_CORRUPT, "%s: model sections do not match the tasks (affinity %s, skill %s)",
             path, f->sec[SEC_AFFINITY].p ? "present" : "absent",
             f->sec[SEC_SKILL].p ? "present" : "absent");
    if (m->has_affinity) {
        affinity *a = &m->aff;
        r = reader_of(f, SEC_AFFINITY);
        uint32_t E = get_u32(&r), H = get_u32(&r), D = get_u32(&r), T = get_u32(&r);
        if (r.bad || (int)E != a->E || (int)H != a->H || (int)D != a->D || (int)T != a->T)
            FAIL(CKPT_CORRUPT, "%s: affinity sizes %u/%u/%u/%u differ from the model's", path, E, H,
                 D, T);
        if (get_dense(&r, a->mem, a->n_params, &a->adam, "affinity", e, sizeof(e)) ||
            get_table(&r, &a->members, "member", e, sizeof(e)) ||
            get_table(&r, &a->companies, "company", e, sizeof(e)))
            FAIL(CKPT_CORRUPT, "%s: %s", path, e);
        if (r.pos != r.len)
            FAIL(CKPT_CORRUPT, "%s: affinity section has trailing bytes", path);
        if (a->members.n != entities[0] || a->companies.n != entities[1])
            FAIL(CKPT_CORRUPT, "%s: entity counts in meta differ from the tables", path);
    }
    if (m->has_skill) {
        skill *s = &m->sk;
        r = reader_of(f, SEC_SKILL);
        uint32_t K = get_u32(&r), H = get_u32(&r), buckets = get_u32(&r), nd = get_u32(&r);
        if (r.bad || (int)K != s->K || (int)H != s->H || buckets != s->buckets ||
            nd > SKILL_MAX_DOMAINS)
            FAIL(CKPT_CORRUPT, "%s: skill sizes differ from the model's", path);
        for (uint32_t d = 0; d < nd; d++) {
            char name[64];
            get_str(&r, name, sizeof(name));
            if (r.bad || skill_domain(s, name, (uint32_t)strlen(name), 1) != (int)d)
                FAIL(CKPT_CORRUPT, "%s: skill domain %u malformed or repeated", path, d);
        }
        s->domains_refused = get_u64(&r);
        if (get_dense(&r, s->mem, s->n_params, &s->adam, "skill", e, sizeof(e)) ||
            get_table(&r, &s->entities, "skill entity", e, sizeof(e)) ||
            get_table(&r, &s->ngrams, "n-gram", e, sizeof(e)))
            FAIL(CKPT_CORRUPT, "%s: %s", path, e);
        if (r.pos != r.len)
            FAIL(CKPT_CORRUPT, "%s: skill section has trailing bytes", path);
    }
    return CKPT_OK;
}

/* The first ';'-separated item where a and b differ, as "a vs b". */
static void first_difference(const char *a, const char *b, char *out, size_t len)
{
    const char *pa = a, *pb = b;
    while (*pa || *pb) {
        size_t na = strcspn(pa, ";"), nb = strcspn(pb, ";");
        if (na != nb || memcmp(pa, pb, na)) {
            snprintf(out, len, "the checkpoint has \"%.*s\", the configuration \"%.*s\"",
                     (int)(na > 200 ? 200 : na), pa, (int)(nb > 200 ? 200 : nb), pb);
            return;
        }
        pa += na + (pa[na] == ';');
        pb += nb + (pb[nb] == ';');
    }
    snprintf(out, len, "no difference found");
}

ckpt_status checkpoint_load_file(const char *path, const model_config *cfg,
                                 const mts_layout *layout, const ckpt_meta *expect,
                                 mts_model **model, ckpt_meta *meta, char *err, size_t errlen)
{
    *model = NULL;
    ckpt_meta_init(meta);
    ckpt_file f;
    ckpt_meta tmp;
    ckpt_meta_init(&tmp);
    uint64_t entities[2] = {0, 0};
    mts_model *m = NULL;
    ckpt_status st = read_file(path, &f, err, errlen);
    if (st == CKPT_OK)
        st = parse_meta(path, &f, &tmp, entities, err, errlen);
    if (st == CKPT_OK) {
        char want[CKPT_MAX_CONFIG_TEXT];
        checkpoint_config_text(cfg, want, sizeof(want));
        if (strcmp(want, tmp.config_text)) {
            char d[600];
            first_difference(tmp.config_text, want, d, sizeof(d));
            snprintf(err, errlen, "%s was written for another model configuration: %s", path, d);
            st = CKPT_MISMATCH;
        } else if (expect) {
            for (int t = 0; t < tmp.n_tasks && t < expect->n_tasks; t++)
                if (tmp.schema_fp[t] != expect->schema_fp[t]) {
                    snprintf(err, errlen,
                             "%s was written for another schema of task %s (fingerprint %016" PRIx64
                             ", the configured schema has %016" PRIx64 ")",
                             path, cfg->tasks[t].name, tmp.schema_fp[t], expect->schema_fp[t]);
                    st = CKPT_MISMATCH;
                    break;
                }
        }
    }
    if (st == CKPT_OK) {
        char e[512];
        m = model_new(cfg, layout, e, sizeof(e));
        if (!m) {
            snprintf(err, errlen, "%s: cannot build the model: %s", path, e);
            st = CKPT_MISMATCH;
        } else {
            st = restore_model(path, &f, m, entities, err, errlen);
        }
    }
    free(f.data);
    if (st != CKPT_OK) {
        model_free(m);
        ckpt_meta_free(&tmp);
        return st;
    }
    *model = m;
    *meta = tmp;
    return CKPT_OK;
}

ckpt_status checkpoint_load_latest(const char *dir, const model_config *cfg,
                                   const mts_layout *layout, const ckpt_meta *expect,
                                   mts_model **model, ckpt_meta *meta, char *used, size_t usedlen,
                                   char *err, size_t errlen)
{
    char cur[4096], prev[4096];
    snprintf(cur, sizeof(cur), "%s/%s", dir, CKPT_NAME);
    snprintf(prev, sizeof(prev), "%s/%s", dir, CKPT_PREV_NAME);
    if (used && usedlen)
        used[0] = '\0';
    char e1[1024];
    ckpt_status st = checkpoint_load_file(cur, cfg, layout, expect, model, meta, e1, sizeof(e1));
    if (st == CKPT_OK || st == CKPT_MISMATCH || st == CKPT_IOERR) {
        if (st == CKPT_OK && used)
            snprintf(used, usedlen, "%s", cur);
        snprintf(err, errlen, "%s", st == CKPT_OK ? "" : e1);
        return st;
    }
    char e2[1024];
    ckpt_status st2 = checkpoint_load_file(prev, cfg, layout, expect, model, meta, e2, sizeof(e2));
    if (st2 == CKPT_OK) {
        if (used)
            snprintf(used, usedlen, "%s", prev);
        snprintf(err, errlen, "%s; using the previous checkpoint %s", e1, prev);
        return CKPT_OK;
    }
    if (st == CKPT_NONE && st2 == CKPT_NONE) {
        snprintf(err, errlen, "no checkpoint in %s", dir);
        return CKPT_NONE;
    }
    if (st2 == CKPT_NONE)
        snprintf(err, errlen, "%s (and no previous checkpoint %s)", e1, prev);
    else
        snprintf(err, errlen, "%s; the previous one is unusable too: %s", e1, e2);
    return st2 == CKPT_MISMATCH ? CKPT_MISMATCH : st == CKPT_NONE ? st2 : st;
}

ckpt_status checkpoint_read_meta(const char *path, ckpt_meta *meta, uint64_t entities[2], char *err,
                                 size_t errlen)
{
    ckpt_meta_init(meta);
    ckpt_file f;
    ckpt_status st = read_file(path, &f, err, errlen);
    if (st == CKPT_OK)
        st = parse_meta(path, &f, meta, entities, err, errlen);
    free(f.data);
    if (st != CKPT_OK)
        ckpt_meta_free(meta);
    return st;
}
