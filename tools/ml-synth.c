/*
 * ml-synth.c - synthetic ratings in the MovieLens 100K file format, of any
 * size, with latent structure.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 *   ml-synth --ratings 25000000 --users 160000 --items 60000 --seed 1 \
 *            --out /tmp/ml-synth-25m
 *
 * writes DIR/u.data, DIR/u.item, DIR/u.user and DIR/u.info that
 * tfrs_dataset_load_movielens() reads like the real data set.  Nothing
 * here comes from MovieLens: every value is drawn from a seeded generator.
 *
 * The model behind the ratings:
 *   user u: latent factors p_u ~ N(0, s^2 I_k), bias b_u ~ N(0, 0.35^2),
 *           activity weight ~ 1 / rank^0.6 (a random rank per user)
 *   item i: latent factors q_i ~ N(0, s^2 I_k), bias b_i ~ N(0, 0.35^2)
 *           plus up to +0.3 for the most popular items, popularity
 *           ~ 1 / rank^zipf (Zipf-like; a random rank per item)
 *   rating = clip(round(3.55 + b_u + b_i + p_u . q_i + N(0, noise^2)), 1, 5)
 * with s chosen so that p_u . q_i has a standard deviation of 0.8.  Each
 * rating draws its user by activity and its item by popularity; when there
 * are at least users + items ratings, every user and every item gets at
 * least one (spread evenly through the file).  (user, item) pairs may
 * repeat, which real MovieLens files never do.
 *
 * Titles are ASCII words made from the item id (so distinct items have
 * distinct titles) plus a year, "Tovami Reku (1987)"; one item in 16 has a
 * Latin-1 word (e.g. "Caf\xe9") so that the loader's transcoding runs.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_DIM 64

typedef struct options {
    uint64_t    ratings, users, items, seed;
    unsigned    dim;
    double      zipf, user_zipf, noise;
    uint64_t    t0, t1;       /* timestamp range */
    int         write_users;
    const char *out;
} options;

/* ---- random numbers: xoshiro256** seeded by splitmix64 ------------------ */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull);

    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* Uniform in [0, 1) with 53 bits. */
static inline double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n), n < 2^32 (multiply-shift; bias < 2^-32). */
static inline uint32_t rng_below(rng *r, uint64_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

/* Standard normal pairs by the Box-Muller transform. */
typedef struct gauss {
    rng   *r;
    double spare;
    int    has_spare;
} gauss;

static double gauss_next(gauss *g)
{
    double u, v, m;

    if (g->has_spare) {
        g->has_spare = 0;
        return g->spare;
    }
    u = 1.0 - rng_unit(g->r);   /* (0, 1] */
    v = rng_unit(g->r);
    m = sqrt(-2.0 * log(u));
    g->spare = m * sin(6.283185307179586 * v);
    g->has_spare = 1;
    return m * cos(6.283185307179586 * v);
}

/* ---- sampling by weight: Vose's alias method -------------------------- */

typedef struct alias_table {
    uint32_t  n;
    float    *prob;    /* accept probability of column j */
    uint32_t *alias;   /* the other outcome of column j  */
} alias_table;

static void *xmalloc(size_t n)
{
    void *p = malloc(n == 0 ? 1 : n);

    if (p == NULL) {
        fprintf(stderr, "ml-synth: out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

/* Outcomes 0..n-1 with weights w (not normalised; w is clobbered). */
static void alias_build(alias_table *t, double *w, uint32_t n)
{
    uint32_t *small = xmalloc(n * sizeof(*small)), *large = xmalloc(n * sizeof(*large));
    uint32_t ns = 0, nl = 0;
    double sum = 0.0;

    t->n = n;
    t->prob = xmalloc(n * sizeof(*t->prob));
    t->alias = xmalloc(n * sizeof(*t->alias));
    for (uint32_t i = 0; i < n; i++)
        sum += w[i];
    for (uint32_t i = 0; i < n; i++) {
        w[i] = w[i] * n / sum;
        if (w[i] < 1.0)
            small[ns++] = i;
        else
            large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
        uint32_t s = small[--ns], l = large[nl - 1];
        t->prob[s] = (float)w[s];
        t->alias[s] = l;
        w[l] -= 1.0 - w[s];
        if (w[l] < 1.0) {
            nl--;
            small[ns++] = l;
        }
    }
    while (nl > 0) {
        uint32_t l = large[--nl];
        t->prob[l] = 1.0f;
        t->alias[l] = l;
    }
    while (ns > 0) {       /* rounding leftovers */
        uint32_t s = small[--ns];
        t->prob[s] = 1.0f;
        t->alias[s] = s;
    }
    free(small);
    free(large);
}

static inline uint32_t alias_sample(const alias_table *t, rng *r)
{
    uint64_t x = rng_next(r);
    uint32_t j = (uint32_t)(((x >> 32) * t->n) >> 32);
    float u = (float)(x & 0xFFFFFF) * 0x1.0p-24f;

    return u < t->prob[j] ? j : t->alias[j];
}

static void alias_free(alias_table *t)
{
    free(t->prob);
    free(t->alias);
}

/* Weights 1 / rank^a over a random assignment of ranks 1..n to outcomes;
 * rank_of[i] (may be NULL) receives outcome i's rank - 1. */
static void zipf_table(alias_table *t, uint32_t n, double a, rng *r, uint32_t *rank_of)
{
    uint32_t *perm = xmalloc(n * sizeof(*perm));
    double *w = xmalloc(n * sizeof(*w));

    for (uint32_t i = 0; i < n; i++)
        perm[i] = i;
    for (uint32_t i = n; i-- > 1;) {
        uint32_t j = rng_below(r, (uint64_t)i + 1), tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
    for (uint32_t k = 0; k < n; k++) {
        w[perm[k]] = pow((double)k + 1.0, -a);
        if (rank_of != NULL)
            rank_of[perm[k]] = k;
    }
    alias_build(t, w, n);
    free(w);
    free(perm);
}

/* Random permutation of 0..n-1. */
static uint32_t *permutation(uint32_t n, rng *r)
{
    uint32_t *p = xmalloc(n * sizeof(*p));

    for (uint32_t i = 0; i < n; i++)
        p[i] = i;
    for (uint32_t i = n; i-- > 1;) {
        uint32_t j = rng_below(r, (uint64_t)i + 1), tmp = p[i];
        p[i] = p[j];
        p[j] = tmp;
    }
    return p;
}

/* ---- buffered output -------------------------------------------------- */

typedef struct out {
    FILE  *f;
    char  *buf;
    size_t len, cap;
    const char *path;
} out;

static void out_open(out *o, const char *dir, const char *name)
{
    static char path[4096];

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
        fprintf(stderr, "ml-synth: path too long\n");
        exit(1);
    }
    o->f = fopen(path, "wb");
    if (o->f == NULL) {
        fprintf(stderr, "ml-synth: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    o->cap = 1 << 22;
    o->buf = xmalloc(o->cap);
    o->len = 0;
    o->path = path;
}

static void out_flush(out *o)
{
    if (o->len > 0 && fwrite(o->buf, 1, o->len, o->f) != o->len) {
        fprintf(stderr, "ml-synth: writing %s: %s\n", o->path, strerror(errno));
        exit(1);
    }
    o->len = 0;
}

/* Room for n more bytes. */
static inline char *out_reserve(out *o, size_t n)
{
    if (o->len + n > o->cap)
        out_flush(o);
    return o->buf + o->len;
}

static void out_close(out *o)
{
    out_flush(o);
    if (fclose(o->f) != 0) {
        fprintf(stderr, "ml-synth: closing %s: %s\n", o->path, strerror(errno));
        exit(1);
    }
    free(o->buf);
}

static void out_str(out *o, const char *s)
{
    size_t n = strlen(s);
    char *p = out_reserve(o, n);

    memcpy(p, s, n);
    o->len += n;
}

/* Decimal digits of v at p; returns the count. */
static inline size_t put_u64(char *p, uint64_t v)
{
    char tmp[20];
    size_t n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

/* ---- u.item, u.user -------------------------------------------------- */

static const char *const syllables[20] = {
    "ka", "to", "mi", "re", "su", "na", "vo", "li", "de", "ra",
    "po", "ne", "bi", "lu", "sa", "te", "mo", "ri", "ga", "fe",
};

static const char *const words[] = {
    "Night", "River", "Return", "Garden", "Story", "Winter", "Shadow", "City", "Dream",
    "Road", "Secret", "Summer", "House", "Fire", "Island", "Voyage",
};

/* Latin-1 words (escapes are single bytes >= 0x80). */
static const char *const latin1_words[] = {
    "Caf\xe9", "M\xfcnchen", "Espa\xf1" "a", "K\xf8" "benhavn", "Gar\xe7on", "\xc9t\xe9",
};

static const char *const months[12] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* A capitalised word from the digits of v in base 20 (two or more
 * syllables): distinct v give distinct words. */
static size_t id_word(char *p, uint64_t v)
{
    char tmp[64];
    size_t n = 0, len = 0;
    int k = 0;

    do {
        const char *s = syllables[v % 20];
        tmp[n++] = s[1];
        tmp[n++] = s[0];
        v /= 20;
        k++;
    } while (v != 0 || k < 2);
    while (n > 0)
        p[len++] = tmp[--n];
    p[0] = (char)(p[0] - 'a' + 'A');
    return len;
}

static void write_items(const options *o, rng *r)
{
    out f;

    out_open(&f, o->out, "u.item");
    for (uint64_t i = 1; i <= o->items; i++) {
        char *p = out_reserve(&f, 512), *start = p;
        unsigned year = 1920 + rng_below(r, 96), day = 1 + rng_below(r, 28);
        unsigned genre = rng_below(r, 19);

        p += put_u64(p, i);
        *p++ = '|';
        p += id_word(p, i);
        *p++ = ' ';
        if (i % 16 == 0) {
            const char *w = latin1_words[(i / 16) % 6];
            memcpy(p, w, strlen(w));
            p += strlen(w);
        } else {
            const char *w = words[rng_below(r, 16)];
            memcpy(p, w, strlen(w));
            p += strlen(w);
        }
        p += sprintf(p, " (%u)|%02u-%s-%u||http://example.invalid/film/%llu", year, day,
                     months[rng_below(r, 12)], year, (unsigned long long)i);
        for (unsigned g = 0; g < 19; g++) {
            *p++ = '|';
            *p++ = g == genre || rng_below(r, 8) == 0 ? '1' : '0';
        }
        *p++ = '\n';
        f.len += (size_t)(p - start);
    }
    out_close(&f);
}

static void write_users(const options *o, rng *r)
{
    static const char *const jobs[] = {
        "administrator", "artist", "doctor", "educator", "engineer", "entertainment",
        "executive", "healthcare", "homemaker", "lawyer", "librarian", "marketing", "none",
        "other", "programmer", "retired", "salesman", "scientist", "student", "technician",
        "writer",
    };
    out f;

    out_open(&f, o->out, "u.user");
    for (uint64_t u = 1; u <= o->users; u++) {
        char *p = out_reserve(&f, 128);
        int n = sprintf(p, "%llu|%u|%c|%s|%05u\n", (unsigned long long)u,
                        7 + rng_below(r, 67), rng_below(r, 2) ? 'M' : 'F',
                        jobs[rng_below(r, sizeof(jobs) / sizeof(jobs[0]))],
                        rng_below(r, 100000));
        f.len += (size_t)n;
    }
    out_close(&f);
}

/* ---- u.data ------------------------------------------------------------ */

static void write_ratings(const options *o)
{
    const uint32_t U = (uint32_t)o->users, I = (uint32_t)o->items, K = o->dim;
    /* p.q = sum of K products of two N(0, s^2): variance K s^4 = 0.8^2 */
    const double s = pow(0.64 / K, 0.25);
    float *pu = xmalloc((size_t)U * K * sizeof(float)), *qi = xmalloc((size_t)I * K * sizeof(float));
    float *bu = xmalloc(U * sizeof(float)), *bi = xmalloc(I * sizeof(float));
    uint32_t *item_rank = xmalloc(I * sizeof(uint32_t)), *cover_u, *cover_i;
    uint64_t stride_u = 0, stride_i = 0, next_u = 0, next_i = 0;
    alias_table tu, ti;
    rng r, rr;
    gauss g;
    out f;

    rng_seed(&r, o->seed, 1);
    g.r = &r;
    g.has_spare = 0;
    for (size_t k = 0; k < (size_t)U * K; k++)
        pu[k] = (float)(s * gauss_next(&g));
    for (size_t k = 0; k < (size_t)I * K; k++)
        qi[k] = (float)(s * gauss_next(&g));
    for (uint32_t u = 0; u < U; u++)
        bu[u] = (float)(0.35 * gauss_next(&g));
    zipf_table(&tu, U, o->user_zipf, &r, NULL);
    zipf_table(&ti, I, o->zipf, &r, item_rank);
    for (uint32_t i = 0; i < I; i++)   /* popular items rate a little higher */
        bi[i] = (float)(0.35 * gauss_next(&g) + 0.3 * (1.0 - (double)item_rank[i] / I));
    free(item_rank);
    /* Coverage: every user and item once, spread through the file. */
    cover_u = permutation(U, &r);
    cover_i = permutation(I, &r);
    if (o->ratings >= o->users + o->items) {
        stride_u = o->ratings / U;
        stride_i = o->ratings / I;
    }

    rng_seed(&rr, o->seed, 2);
    g.r = &rr;
    g.has_spare = 0;
    out_open(&f, o->out, "u.data");
    for (uint64_t n = 0; n < o->ratings; n++) {
        uint32_t u, i;
        double x;
        int rating;
        uint64_t ts;
        char *p;

        if (stride_u != 0 && n % stride_u == 0 && next_u < U)
            u = cover_u[next_u++];
        else
            u = alias_sample(&tu, &rr);
        if (stride_i != 0 && n % stride_i == 0 && next_i < I)
            i = cover_i[next_i++];
        else
            i = alias_sample(&ti, &rr);
        x = 3.55 + bu[u] + bi[i] + o->noise * gauss_next(&g);
        for (unsigned k = 0; k < K; k++)
            x += (double)pu[(size_t)u * K + k] * qi[(size_t)i * K + k];
        rating = (int)lrint(x);
        rating = rating < 1 ? 1 : rating > 5 ? 5 : rating;
        ts = o->t0 + (uint64_t)(rng_unit(&rr) * (double)(o->t1 - o->t0));

        p = out_reserve(&f, 64);
        {
            char *start = p;
            p += put_u64(p, (uint64_t)u + 1);
            *p++ = '\t';
            p += put_u64(p, (uint64_t)i + 1);
            *p++ = '\t';
            *p++ = (char)('0' + rating);
            *p++ = '\t';
            p += put_u64(p, ts);
            *p++ = '\n';
            f.len += (size_t)(p - start);
        }
    }
    out_close(&f);
    alias_free(&tu);
    alias_free(&ti);
    free(cover_u);
    free(cover_i);
    free(pu);
    free(qi);
    free(bu);
    free(bi);
}

/* ---- command line ------------------------------------------------------ */

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s --out DIR [options]\n"
            "\n"
            "Writes synthetic MovieLens-format ratings (u.data, u.item, u.user, u.info)\n"
            "with latent structure to DIR (created if missing).\n"
            "\n"
            "  --ratings N     ratings (default 100000)\n"
            "  --users N       users (default 943)\n"
            "  --items N       items (default 1682)\n"
            "  --seed N        generator seed (default 1)\n"
            "  --dim N         latent factors (default 8, at most %d)\n"
            "  --zipf A        item popularity exponent (default 1.0)\n"
            "  --user-zipf A   user activity exponent (default 0.6)\n"
            "  --noise X       rating noise standard deviation (default 0.7)\n"
            "  --no-users      do not write u.user\n"
            "\n"
            "Example (MovieLens 25M scale, about 650 MB):\n"
            "  %s --ratings 25000000 --users 160000 --items 60000 --seed 1 --out /tmp/ml-25m\n",
            prog, MAX_DIM, prog);
}

static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t len = strlen(name);
    const char *arg = argv[*i];

    if (strncmp(arg, name, len) != 0)
        return NULL;
    if (arg[len] == '=')
        return arg + len + 1;
    if (arg[len] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: %s needs a value\n", argv[0], name);
        exit(2);
    }
    return argv[++*i];
}

static uint64_t parse_count(const char *prog, const char *name, const char *v, uint64_t min,
                            uint64_t max)
{
    unsigned long long n;
    char *end;

    errno = 0;
    n = strtoull(v, &end, 10);
    if (*v == '\0' || *v == '-' || *end != '\0' || errno != 0 || n < min || n > max) {
        fprintf(stderr, "%s: invalid value for %s: '%s' (%llu .. %llu)\n", prog, name, v,
                (unsigned long long)min, (unsigned long long)max);
        exit(2);
    }
    return n;
}

static double parse_real(const char *prog, const char *name, const char *v)
{
    char *end;
    double x;

    errno = 0;
    x = strtod(v, &end);
    if (*v == '\0' || *end != '\0' || errno != 0 || !(x >= 0.0) || x > 100.0) {
        fprintf(stderr, "%s: invalid value for %s: '%s'\n", prog, name, v);
        exit(2);
    }
    return x;
}

static void parse_args(int argc, char **argv, options *o)
{
    const char *v;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout, argv[0]);
            exit(0);
        } else if ((v = opt_value(argc, argv, &i, "--out")) != NULL) {
            o->out = v;
        } else if ((v = opt_value(argc, argv, &i, "--ratings")) != NULL) {
            o->ratings = parse_count(argv[0], "--ratings", v, 1, UINT32_MAX);
        } else if ((v = opt_value(argc, argv, &i, "--users")) != NULL) {
            o->users = parse_count(argv[0], "--users", v, 1, INT32_MAX);
        } else if ((v = opt_value(argc, argv, &i, "--items")) != NULL) {
            o->items = parse_count(argv[0], "--items", v, 1, INT32_MAX);
        } else if ((v = opt_value(argc, argv, &i, "--seed")) != NULL) {
            o->seed = parse_count(argv[0], "--seed", v, 0, UINT64_MAX);
        } else if ((v = opt_value(argc, argv, &i, "--dim")) != NULL) {
            o->dim = (unsigned)parse_count(argv[0], "--dim", v, 1, MAX_DIM);
        } else if ((v = opt_value(argc, argv, &i, "--zipf")) != NULL) {
            o->zipf = parse_real(argv[0], "--zipf", v);
        } else if ((v = opt_value(argc, argv, &i, "--user-zipf")) != NULL) {
            o->user_zipf = parse_real(argv[0], "--user-zipf", v);
        } else if ((v = opt_value(argc, argv, &i, "--noise")) != NULL) {
            o->noise = parse_real(argv[0], "--noise", v);
        } else if (strcmp(argv[i], "--no-users") == 0) {
            o->write_users = 0;
        } else {
            fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", argv[0], argv[i]);
            exit(2);
        }
    }
    if (o->out == NULL) {
        fprintf(stderr, "%s: --out DIR is required (try --help)\n", argv[0]);
        exit(2);
    }
    if ((uint64_t)o->users * o->dim > SIZE_MAX / 8 || (uint64_t)o->items * o->dim > SIZE_MAX / 8) {
        fprintf(stderr, "%s: too many users or items\n", argv[0]);
        exit(2);
    }
}

int main(int argc, char **argv)
{
    options o = { 100000, 943, 1682, 1, 8, 1.0, 0.6, 0.7,
                  789652009u, 1427784002u, 1, NULL };   /* 1995-01-09 .. 2015-03-31 */
    struct timespec a, b;
    rng r;
    out f;
    char line[128];

    parse_args(argc, argv, &o);
    if (mkdir(o.out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: mkdir %s: %s\n", argv[0], o.out, strerror(errno));
        return 1;
    }
    if (o.ratings < o.users + o.items)
        fprintf(stderr, "%s: note: fewer ratings than users + items: not every user and "
                "item will have a rating\n", argv[0]);
    clock_gettime(CLOCK_MONOTONIC, &a);
    rng_seed(&r, o.seed, 3);
    write_items(&o, &r);
    if (o.write_users)
        write_users(&o, &r);
    write_ratings(&o);
    out_open(&f, o.out, "u.info");
    snprintf(line, sizeof(line), "%llu users\n%llu items\n%llu ratings\n",
             (unsigned long long)o.users, (unsigned long long)o.items,
             (unsigned long long)o.ratings);
    out_str(&f, line);
    out_close(&f);
    clock_gettime(CLOCK_MONOTONIC, &b);
    fprintf(stderr, "%s: %llu ratings of %llu items by %llu users in %s (%.1f s)\n", argv[0],
            (unsigned long long)o.ratings, (unsigned long long)o.items,
            (unsigned long long)o.users, o.out,
            (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec));
    return 0;
}
