/*
 * movielens_ranking_mpi.c - the basic ranking tutorial on N MPI ranks.
 *
 *   mpirun -np 2 build/examples/movielens_ranking_mpi [--data DIR] [--save FILE]
 *
 * Rank 0 prints the lines of the single-process example
 * (movielens_ranking): progress, the evaluate dictionary, the three
 * ratings, the save; the two outputs can be compared line by line.  They
 * agree to float summation order: the ranks' gradients are summed in
 * another order than one process sums them (docs/distributed.md).
 *
 * Two ways to give the ranks their rows:
 *   - default (the tutorial): every rank loads MovieLens 100K, shuffles and
 *     splits it as the tutorial does, and takes its slice of the training
 *     rows (rank r of N: rows 80000 r / N .. 80000 (r + 1) / N) and of the
 *     test rows; the vocabularies come from all ratings, as in the tutorial.
 *   - --sharded: each rank reads only its byte range of DIR/u.data (any
 *     MovieLens-format directory, such as tools/ml-synth's 25M ratings),
 *     builds the vocabularies over all ranks' values and holds out a
 *     fifth of its own rows (shuffled with the seed and its rank) as test
 *     rows.  No rank reads the whole ratings file.
 *
 * --checkpoint FILE saves a checkpoint at every epoch end and, with
 * --checkpoint-every N, every N steps; starting again with the same command
 * resumes from it and ends with the weights of an uninterrupted run.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "tfrsc.h"
#include "tfrsc_mpi.h"
#include "example.h"

#define EVAL_BATCH_SIZE 4096
#define SPLIT_SEED      42
#define TRAIN_ROWS      80000
#define TEST_ROWS       20000

typedef struct options {
    const char *data, *save, *checkpoint;
    int         epochs, threads, sharded;
    size_t      batch_size;
    uint64_t    seed, checkpoint_every;
    const char *tables;
} options;

static int rank, nranks;

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: mpirun -np N %s [options]\n"
            "\n"
            "Trains the TensorFlow Recommenders basic ranking model on N MPI ranks.\n"
            "\n"
            "  --data DIR             MovieLens 100K (or a MovieLens-format directory\n"
            "                         with --sharded); default as movielens_ranking\n"
            "  --sharded              each rank reads only its part of DIR/u.data\n"
            "  --epochs N             training epochs (default 3)\n"
            "  --batch-size N         global batch size (default 8192)\n"
            "  --seed N               seed (default 42)\n"
            "  --threads N            threads per rank (default 1)\n"
            "  --tables MODE          auto, sparse or dense embedding exchange\n"
            "  --checkpoint FILE      save a checkpoint there, resume from it\n"
            "  --checkpoint-every N   and every N steps (default: epoch ends only)\n"
            "  --save PATH            where rank 0 saves the model\n"
            "                         (default movielens_ranking_mpi.tfrs)\n"
            "  --help                 show this text\n",
            prog);
}

/* Every rank reaches the same verdict, so every rank stops alike. */
#define MPI_CHECK(call)                                                              \
    do {                                                                             \
        int rc_ = (call);                                                            \
        if (rc_ != TFRS_OK) {                                                        \
            fprintf(stderr, "rank %d: %s: %s\n", rank, #call, tfrs_mpi_last_error()); \
            MPI_Finalize();                                                          \
            return 1;                                                                \
        }                                                                            \
    } while (0)

static void parse_args(int argc, char **argv, options *o)
{
    const char *v;
    unsigned long long n;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            if (rank == 0)
                usage(stdout, argv[0]);
            MPI_Finalize();
            exit(0);
        } else if (strcmp(argv[i], "--sharded") == 0) {
            o->sharded = 1;
        } else if ((v = ex_option_value(argc, argv, &i, "--data")) != NULL) {
            o->data = v;
        } else if ((v = ex_option_value(argc, argv, &i, "--save")) != NULL) {
            o->save = v;
        } else if ((v = ex_option_value(argc, argv, &i, "--checkpoint")) != NULL) {
            o->checkpoint = v;
        } else if ((v = ex_option_value(argc, argv, &i, "--tables")) != NULL) {
            o->tables = v;
        } else if ((v = ex_option_value(argc, argv, &i, "--checkpoint-every")) != NULL) {
            if (ex_parse_u64(v, UINT64_MAX, &n) < 0)
                ex_bad_value(argv[0], "--checkpoint-every", v);
            o->checkpoint_every = n;
        } else if ((v = ex_option_value(argc, argv, &i, "--epochs")) != NULL) {
            if (ex_parse_u64(v, 1000000, &n) < 0 || n == 0)
                ex_bad_value(argv[0], "--epochs", v);
            o->epochs = (int)n;
        } else if ((v = ex_option_value(argc, argv, &i, "--threads")) != NULL) {
            if (ex_parse_u64(v, 256, &n) < 0 || n == 0)
                ex_bad_value(argv[0], "--threads", v);
            o->threads = (int)n;
        } else if ((v = ex_option_value(argc, argv, &i, "--batch-size")) != NULL) {
            if (ex_parse_u64(v, 100000000, &n) < 0 || n == 0)
                ex_bad_value(argv[0], "--batch-size", v);
            o->batch_size = (size_t)n;
        } else if ((v = ex_option_value(argc, argv, &i, "--seed")) != NULL) {
            if (ex_parse_u64(v, UINT64_MAX, &n) < 0)
                ex_bad_value(argv[0], "--seed", v);
            o->seed = (uint64_t)n;
        } else {
            fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", argv[0], argv[i]);
            MPI_Finalize();
            exit(2);
        }
    }
}

/* Rank 0 prints the single-process example's line at each epoch end. */
static int on_progress(const tfrs_progress *p, void *payload)
{
    (void)payload;
    if (p->end_of_epoch && rank == 0)
        ex_print_epoch(p);
    return 0;
}

/* The rows [n r / N, n (r + 1) / N) of ds: this rank's slice. */
static int my_slice(tfrs_dataset **out, const tfrs_dataset *ds, size_t n)
{
    size_t lo = n * (size_t)rank / (size_t)nranks, hi = n * (size_t)(rank + 1) / (size_t)nranks;
    return tfrs_dataset_slice(out, ds, lo, hi - lo);
}

int main(int argc, char **argv)
{
    static const char *const titles[] = {
        "M*A*S*H (1970)", "Dances with Wolves (1990)", "Speed (1994)",
    };
    enum { NUM_TITLES = sizeof(titles) / sizeof(titles[0]) };
    options o = { NULL, "movielens_ranking_mpi.tfrs", NULL, 3, 1, 0, 8192, 42, 0, "auto" };
    tfrs_dataset *ratings = NULL, *train = NULL, *test = NULL, *all_train = NULL;
    tfrs_dataset *all_test = NULL;
    tfrs_vocab *users = NULL, *movies = NULL;
    tfrs_model *model = NULL, *loaded = NULL;
    tfrs_task_options task_opts;
    tfrs_ranking_task *task = NULL;
    tfrs_optimizer_options opt_opts;
    tfrs_fit_options fit_opts;
    tfrs_mpi_options mpi_opts;
    tfrs_mpi_stats stats;
    tfrs_metrics test_metrics;
    tfrs_scored ranked[NUM_TITLES];
    size_t n_ranked = 0, n_all = 0;
    const char *dir;
    int resumed = 0, rc = 0;
    double t0;

    if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
        fprintf(stderr, "%s: MPI_Init failed\n", argv[0]);
        return 1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    parse_args(argc, argv, &o);
    dir = ex_find_data(o.data);
    if (dir == NULL || !ex_has_movielens(dir)) {
        if (rank == 0) {
            if (dir != NULL)
                fprintf(stderr, "%s: no u.data in %s\n", argv[0], dir);
            ex_explain_download();
        }
        MPI_Finalize();
        return 1;
    }
    if (rank == 0)
        printf("libtfrsc %s, MovieLens 100K from %s\n", tfrs_version_string(), dir);

    if (!o.sharded) {
        /* The tutorial's split on every rank, then this rank's slices. */
        MPI_CHECK(tfrs_dataset_load_movielens(&ratings, dir, NULL));
        MPI_CHECK(tfrs_dataset_shuffle(ratings, SPLIT_SEED));
        MPI_CHECK(tfrs_dataset_slice(&all_train, ratings, 0, TRAIN_ROWS));
        MPI_CHECK(tfrs_dataset_slice(&all_test, ratings, TRAIN_ROWS, TEST_ROWS));
        MPI_CHECK(my_slice(&train, all_train, tfrs_dataset_num_rows(all_train)));
        MPI_CHECK(my_slice(&test, all_test, tfrs_dataset_num_rows(all_test)));
        MPI_CHECK(tfrs_vocab_adapt_column(&users, ratings, "user_id", NULL));
        MPI_CHECK(tfrs_vocab_adapt_column(&movies, ratings, "movie_title", NULL));
        n_all = tfrs_dataset_num_rows(ratings);
    } else {
        /* This rank's byte range of u.data; a fifth of it held out. */
        size_t n, held;
        MPI_CHECK(tfrs_mpi_load_movielens(&ratings, MPI_COMM_WORLD, dir, NULL));
        n = tfrs_dataset_num_rows(ratings);
        held = n / 5;
        MPI_CHECK(tfrs_dataset_shuffle(ratings, o.seed + (uint64_t)rank));
        MPI_CHECK(tfrs_dataset_slice(&train, ratings, 0, n - held));
        MPI_CHECK(tfrs_dataset_slice(&test, ratings, n - held, held));
        MPI_CHECK(tfrs_mpi_vocab_adapt_column(&users, MPI_COMM_WORLD, ratings, "user_id", NULL));
        MPI_CHECK(tfrs_mpi_vocab_adapt_column(&movies, MPI_COMM_WORLD, ratings, "movie_title",
                                              NULL));
        {
            unsigned long long mine = n, all = 0;
            MPI_Allreduce(&mine, &all, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
            n_all = (size_t)all;
        }
        tfrs_dataset_drop_column(train, "movie_id");      /* fit reads user, title, rating */
        tfrs_dataset_drop_column(train, "timestamp");
    }
    if (rank == 0) {
        unsigned long long tr = tfrs_dataset_num_rows(train), te = tfrs_dataset_num_rows(test);
        unsigned long long sums[2] = { tr, te }, all[2];
        MPI_Reduce(sums, all, 2, MPI_UNSIGNED_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
        printf("%zu ratings: %llu train, %llu test; %zu users, %zu movie titles\n", n_all,
               all[0], all[1], tfrs_vocab_num_tokens(users), tfrs_vocab_num_tokens(movies));
    } else {
        unsigned long long sums[2] = { tfrs_dataset_num_rows(train),
                                       tfrs_dataset_num_rows(test) };
        MPI_Reduce(sums, NULL, 2, MPI_UNSIGNED_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
    }
    fprintf(stderr, "rank %d of %d: %zu training rows, %zu test rows\n", rank, nranks,
            tfrs_dataset_num_rows(train), tfrs_dataset_num_rows(test));

    /* The tutorial's model, the same on every rank (same vocabularies, seed). */
    MPI_CHECK(tfrs_model_create(&model, o.seed));
    MPI_CHECK(tfrs_model_add_feature(model, "user_id", users, 32));
    MPI_CHECK(tfrs_model_add_feature(model, "movie_title", movies, 32));
    MPI_CHECK(tfrs_model_add_dense(model, 256, TFRS_ACT_RELU, 0.0f));
    MPI_CHECK(tfrs_model_add_dense(model, 64, TFRS_ACT_RELU, 0.0f));
    MPI_CHECK(tfrs_model_add_dense(model, 1, TFRS_ACT_LINEAR, 0.0f));
    MPI_CHECK(tfrs_task_options_init(&task_opts, TFRS_TASK_OPTIONS_VERSION));
    task_opts.metrics = TFRS_METRIC_RMSE;
    MPI_CHECK(tfrs_ranking_task_create(&task, &task_opts));
    MPI_CHECK(tfrs_model_set_task(model, task));
    MPI_CHECK(tfrs_optimizer_options_init(&opt_opts, TFRS_OPTIMIZER_OPTIONS_VERSION,
                                          TFRS_OPT_ADAGRAD));
    opt_opts.learning_rate = 0.1f;
    MPI_CHECK(tfrs_model_set_optimizer(model, &opt_opts));
    MPI_CHECK(tfrs_model_set_label(model, "user_rating", NULL));
    MPI_CHECK(tfrs_model_build(model));
    if (rank == 0)
        printf("model: %zu parameters\n", tfrs_model_num_parameters(model));

    MPI_CHECK(tfrs_mpi_options_init(&mpi_opts, TFRS_MPI_OPTIONS_VERSION));
    mpi_opts.checkpoint = o.checkpoint;
    mpi_opts.checkpoint_every = o.checkpoint_every;
    mpi_opts.tables = strcmp(o.tables, "sparse") == 0  ? TFRS_MPI_TABLES_SPARSE
                      : strcmp(o.tables, "dense") == 0 ? TFRS_MPI_TABLES_DENSE
                                                       : TFRS_MPI_TABLES_AUTO;
    mpi_opts.stats = &stats;
    if (o.checkpoint != NULL) {
        MPI_CHECK(tfrs_mpi_resume(&model, MPI_COMM_WORLD, o.checkpoint, &resumed));
        if (resumed && rank == 0) {
            uint64_t steps, epochs;
            tfrs_model_training_state(model, &steps, &epochs);
            fprintf(stderr, "resumed from %s: %llu epochs and %llu steps done\n",
                    o.checkpoint, (unsigned long long)epochs, (unsigned long long)steps);
        }
    }

    MPI_CHECK(tfrs_fit_options_init(&fit_opts, TFRS_FIT_OPTIONS_VERSION));
    fit_opts.epochs = o.epochs;
    fit_opts.batch_size = o.batch_size;
    fit_opts.shuffle_seed = o.seed;
    fit_opts.threads = o.threads;
    fit_opts.progress = on_progress;
    t0 = MPI_Wtime();
    MPI_CHECK(tfrs_mpi_fit(model, MPI_COMM_WORLD, train, &fit_opts, &mpi_opts, NULL));
    if (rank == 0)
        fprintf(stderr, "fit: %.3f s; %llu steps exchanged, %.3f s in exchanges, "
                "%.1f KiB of dense gradients and %.1f KiB of embedding rows sent per step "
                "(%llu sparse, %llu dense table exchanges)\n", MPI_Wtime() - t0,
                (unsigned long long)stats.steps, stats.exchange_seconds,
                stats.steps ? (double)stats.dense_bytes / 1024.0 / (double)stats.steps : 0.0,
                stats.steps ? (double)stats.table_bytes_sent / 1024.0 / (double)stats.steps
                            : 0.0,
                (unsigned long long)stats.sparse_exchanges,
                (unsigned long long)stats.dense_exchanges);

    MPI_CHECK(tfrs_mpi_evaluate(model, MPI_COMM_WORLD, test, EVAL_BATCH_SIZE, &test_metrics));
    if (rank == 0)
        ex_print_metrics(&test_metrics);

    /* Every rank holds the same weights; rank 0 ranks, prints and saves. */
    if (rank == 0) {
        const char *query[2] = { "42", NULL };
        char buf[32];
        const char *example[2] = { "42", "Speed (1994)" };
        float before = 0.0f, after = 0.0f;

        EX_CHECK(tfrs_model_rank(model, query, "movie_title", titles, NUM_TITLES, 0, ranked,
                                 &n_ranked));
        printf("Ratings:\n");
        for (size_t i = 0; i < n_ranked; i++) {
            ex_format_float(buf, sizeof(buf), ranked[i].score);
            printf("%s: %s\n", titles[ranked[i].index], buf);
        }
        EX_CHECK(tfrs_model_save(model, o.save, 0));
        EX_CHECK(tfrs_model_load(&loaded, o.save));
        printf("saved to %s and loaded back\n", o.save);
        EX_CHECK(tfrs_model_predict(model, example, 1, &before));
        EX_CHECK(tfrs_model_predict(loaded, example, 1, &after));
        {
            char bb[32], ab[32];
            ex_format_float(bb, sizeof(bb), before);
            ex_format_float(ab, sizeof(ab), after);
            printf("Speed (1994) for user 42: trained %s, loaded %s (%s)\n", bb, ab,
                   memcmp(&before, &after, sizeof(float)) == 0 ? "bit-identical"
                                                                : "DIFFERENT");
            if (memcmp(&before, &after, sizeof(float)) != 0)
                rc = 1;
        }
    }
out:
    tfrs_model_free(loaded);
    tfrs_model_free(model);
    tfrs_ranking_task_free(task);
    tfrs_vocab_free(users);
    tfrs_vocab_free(movies);
    tfrs_dataset_free(train);
    tfrs_dataset_free(test);
    tfrs_dataset_free(all_train);
    tfrs_dataset_free(all_test);
    tfrs_dataset_free(ratings);
    MPI_Finalize();
    return rc;
}
