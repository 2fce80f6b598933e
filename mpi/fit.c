/*
 * fit.c - libtfrsc-mpi's fit, evaluate and checkpoint resume.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* What the progress wrapper needs. */
typedef struct watch {
    MPI_Comm                comm;
    int                     rank;
    tfrs_model             *model;
    const tfrs_fit_options *fit;
    const tfrs_mpi_options *mpi;
    int                     stop_rc;   /* why the wrapper stopped fit, or 0 */
} watch;

/* Rank 0 saves a checkpoint; every rank learns how it went. */
static int checkpoint(watch *w)
{
    int rc = TFRS_OK, code;

    if (w->rank == 0 && (rc = tfrs_model_save(w->model, w->mpi->checkpoint,
                                              TFRS_SAVE_OPTIMIZER)) != TFRS_OK)
        tmpi_fail(rc, "checkpoint %s: %s", w->mpi->checkpoint, tfrs_last_error());
    if ((code = MPI_Bcast(&rc, 1, MPI_INT, 0, w->comm)) != MPI_SUCCESS)
        return tmpi_mpi_error(code, "MPI_Bcast");
    if (rc != TFRS_OK && w->rank != 0) {
        tmpi_fail(rc, "rank 0 could not save the checkpoint %s", w->mpi->checkpoint);
    } else if (rc != TFRS_OK) {
        char why[1024];
        snprintf(why, sizeof(why), "%s", tmpi_message());
        tmpi_fail(rc, "rank 0: %.900s", why);
    }
    return rc;
}

/* The progress callback fit sees: checkpoints, then the caller's callback,
 * whose wish to stop is agreed over all ranks. */
static int progress(const tfrs_progress *p, void *payload)
{
    watch *w = payload;
    int stop = 0, any = 0, code;

    if (w->mpi->checkpoint != NULL) {
        uint64_t steps = 0;
        int due = p->end_of_epoch;
        tfrs_model_training_state(w->model, &steps, NULL);
        /* Not after an epoch's last batch: the end-of-epoch call that
         * follows saves the same weights with the epoch counted done. */
        if (!p->end_of_epoch && p->batch < p->batches && w->mpi->checkpoint_every > 0 &&
            steps % w->mpi->checkpoint_every == 0)
            due = 1;
        if (due && (w->stop_rc = checkpoint(w)) != TFRS_OK)
            return 1;
    }
    if (w->fit->progress == NULL)
        return 0;
    stop = w->fit->progress(p, w->fit->payload) != 0;
    if ((code = MPI_Allreduce(&stop, &any, 1, MPI_INT, MPI_MAX, w->comm)) != MPI_SUCCESS) {
        w->stop_rc = tmpi_mpi_error(code, "MPI_Allreduce");
        return 1;
    }
    if (any) {
        w->stop_rc = tmpi_fail(TFRS_ECANCELED, "tfrs_mpi_fit: stopped by the progress "
                               "callback of %s in epoch %d", stop ? "this rank" : "another rank",
                               p->epoch);
        return 1;
    }
    return 0;
}

/* The values every rank must share: options and training state. */
static int same_everywhere(MPI_Comm comm, const tfrs_model *m, const tfrs_fit_options *o,
                           const tfrs_mpi_options *mo)
{
    uint64_t mine[10], first[10], hash = 0;
    int rc, me, code;

    MPI_Comm_rank(comm, &me);
    if ((rc = tfrs_model_weights_hash(m, &hash)) != TFRS_OK)
        return tmpi_core(rc);
    memset(mine, 0, sizeof(mine));
    mine[0] = hash;
    tfrs_model_training_state(m, &mine[1], &mine[2]);
    mine[3] = (uint64_t)o->epochs;
    mine[4] = o->batch_size;
    mine[5] = (uint64_t)o->shuffle;
    mine[6] = o->shuffle_seed;
    mine[7] = mo->checkpoint != NULL;
    mine[8] = mo->checkpoint_every;
    mine[9] = (uint64_t)mo->tables;
    memcpy(first, mine, sizeof(first));
    if ((code = MPI_Bcast(first, 10, MPI_UINT64_T, 0, comm)) != MPI_SUCCESS)
        return tmpi_mpi_error(code, "MPI_Bcast");
    if (first[0] != mine[0] || first[1] != mine[1] || first[2] != mine[2])
        return tmpi_fail(TFRS_EINVAL, "tfrs_mpi_fit: this rank's model differs from rank 0's "
                         "(weights, steps or epochs: build it with the same configuration, "
                         "vocabularies and seed on every rank)");
    if (memcmp(first + 3, mine + 3, 7 * sizeof(uint64_t)) != 0)
        return tmpi_fail(TFRS_EINVAL, "tfrs_mpi_fit: this rank's fit or MPI options differ "
                         "from rank 0's");
    return TFRS_OK;
}

int tfrs_mpi_fit(tfrs_model *model, MPI_Comm comm, const tfrs_dataset *shard,
                 const tfrs_fit_options *fit, const tfrs_mpi_options *mpi,
                 tfrs_metrics *history)
{
    tfrs_mpi_options mo;
    tfrs_fit_options o;
    tfrs_exchange ex;
    tmpi_exchange *x = NULL;
    watch w;
    uint64_t n, global = 0, first = 0, steps = 0, epochs_done = 0;
    size_t batches;
    int rc = TFRS_OK, code, me;

    tmpi_fail(TFRS_OK, NULL);
    MPI_Comm_rank(comm, &me);
    tfrs_mpi_options_init(&mo, TFRS_MPI_OPTIONS_VERSION);
    if (mpi != NULL) {
        if (mpi->version != TFRS_MPI_OPTIONS_VERSION)
            rc = tmpi_fail(TFRS_EINVAL, "tfrs_mpi_fit: unknown MPI options version %u",
                           mpi->version);
        else
            mo = *mpi;
    }
    if (rc == TFRS_OK && (model == NULL || shard == NULL || fit == NULL))
        rc = tmpi_fail(TFRS_EINVAL, "tfrs_mpi_fit: model, shard and fit options are needed");
    if (rc == TFRS_OK && fit->version != TFRS_FIT_OPTIONS_VERSION)
        rc = tmpi_fail(TFRS_EINVAL, "tfrs_mpi_fit: fit options of version %u (this library "
                       "needs %u)", fit->version, (unsigned)TFRS_FIT_OPTIONS_VERSION);
    if (rc == TFRS_OK && (n = tfrs_dataset_num_rows(shard)) == 0)
        rc = tmpi_fail(TFRS_EINVAL, "tfrs_mpi_fit: this rank's dataset has no rows");
    if (rc == TFRS_OK && tfrs_model_num_parameters(model) == 0)
        rc = tmpi_fail(TFRS_ESTATE, "tfrs_mpi_fit: the model is not built");
    if ((rc = tmpi_agree(comm, rc)) != TFRS_OK)
        return rc;
    /* The global rows: the shards in rank order. */
    if ((code = MPI_Exscan(&n, &first, 1, MPI_UINT64_T, MPI_SUM, comm)) != MPI_SUCCESS ||
        (code = MPI_Allreduce(&n, &global, 1, MPI_UINT64_T, MPI_SUM, comm)) != MPI_SUCCESS)
        return tmpi_mpi_error(code, "MPI_Exscan");
    if (me == 0)
        first = 0;                              /* MPI_Exscan leaves rank 0's undefined */
    rc = same_everywhere(comm, model, fit, &mo);
    if ((rc = tmpi_agree(comm, rc)) != TFRS_OK)
        return rc;

    /* Where the model stands: epochs done and steps into the next one. */
    tfrs_model_training_state(model, &steps, &epochs_done);
    o = *fit;
    /* fit's batches: of min(batch_size, global rows) rows; 0 for a batch
     * size fit refuses (it says so below) */
    {
        uint64_t bs = fit->batch_size < global ? fit->batch_size : global;
        batches = bs == 0 ? 0 : (size_t)((global + bs - 1) / bs);
    }
    memset(&ex, 0, sizeof(ex));
    ex.version = TFRS_EXCHANGE_VERSION;
    ex.exchange = tmpi_exchange_step;
    ex.global_rows = global;
    ex.first_row = first;
    if (batches > 0 && steps > epochs_done * (uint64_t)batches)
        ex.skip_batches = (size_t)(steps - epochs_done * (uint64_t)batches);
    if (batches > 0 && ex.skip_batches >= batches)
        return tmpi_fail(TFRS_EINVAL, "tfrs_mpi_fit: the model's %llu steps over %llu epochs "
                         "do not fit epochs of %zu batches (it was trained with another "
                         "batch size or data)", (unsigned long long)steps,
                         (unsigned long long)epochs_done, batches);
    if ((uint64_t)fit->epochs <= epochs_done)
        return TFRS_OK;                          /* nothing left (all ranks alike) */
    o.epochs = fit->epochs - (int)epochs_done;

    rc = tmpi_exchange_create(&x, comm, mo.tables);
    if ((rc = tmpi_agree(comm, rc)) != TFRS_OK) {
        tmpi_exchange_free(x);
        return rc;
    }
    ex.payload = x;
    o.exchange = &ex;
    w.comm = comm;
    w.rank = me;
    w.model = model;
    w.fit = fit;
    w.mpi = &mo;
    w.stop_rc = TFRS_OK;
    if (mo.checkpoint != NULL || fit->progress != NULL) {
        o.progress = progress;
        o.payload = &w;
    }
    rc = tfrs_model_fit(model, shard, &o, history);
    if (rc != TFRS_OK && !tmpi_exchange_failed(x)) {
        if (w.stop_rc != TFRS_OK)
            rc = w.stop_rc;                     /* our message is set */
        else
            tmpi_core(rc);
    }
    rc = tmpi_exchange_finish(x, rc);
    if (mo.stats != NULL)
        tmpi_exchange_stats(x, mo.stats);
    tmpi_exchange_free(x);
    if (rc != TFRS_OK)
        return rc;
    /* All ranks must hold the same weights. */
    {
        uint64_t h = 0, lo, hi;
        tfrs_model_weights_hash(model, &h);
        if ((code = MPI_Allreduce(&h, &lo, 1, MPI_UINT64_T, MPI_MIN, comm)) != MPI_SUCCESS ||
            (code = MPI_Allreduce(&h, &hi, 1, MPI_UINT64_T, MPI_MAX, comm)) != MPI_SUCCESS)
            return tmpi_mpi_error(code, "MPI_Allreduce");
        if (lo != hi)
            return tmpi_fail(TFRS_ESTATE, "tfrs_mpi_fit: the ranks' weights differ after "
                             "training (a non-deterministic MPI reduction?)");
    }
    return TFRS_OK;
}

int tfrs_mpi_evaluate(const tfrs_model *model, MPI_Comm comm, const tfrs_dataset *shard,
                      size_t batch_size, tfrs_metrics *out)
{
    tfrs_metrics local;
    double s[6];
    int rc = TFRS_OK;

    tmpi_fail(TFRS_OK, NULL);
    memset(&local, 0, sizeof(local));
    if (model == NULL || shard == NULL || out == NULL)
        rc = tmpi_fail(TFRS_EINVAL, "tfrs_mpi_evaluate: model, shard and out are needed");
    else if ((rc = tfrs_model_evaluate(model, shard, batch_size, &local)) != TFRS_OK)
        tmpi_core(rc);
    if ((rc = tmpi_agree(comm, rc)) != TFRS_OK)
        return rc;
    if (local.metrics & TFRS_METRIC_AUC)
        return tmpi_fail(TFRS_EINVAL, "tfrs_mpi_evaluate: AUC cannot be combined across "
                         "ranks (use a task without it)");
    /* Each rank's means, weighted by its rows, then added up. */
    s[0] = local.loss * (double)local.examples;
    s[1] = local.regularization_loss * (double)local.examples;
    s[2] = local.rmse * local.rmse * (double)local.examples;
    s[3] = local.mae * (double)local.examples;
    s[4] = (double)local.examples;
    s[5] = 0.0;
    if ((rc = tmpi_reduce_bcast(comm, s, 6, MPI_DOUBLE, MPI_SUM)) != TFRS_OK)
        return rc;
    *out = local;
    out->examples = (size_t)s[4];
    out->loss = s[0] / s[4];
    out->regularization_loss = s[1] / s[4];
    out->total_loss = out->loss + out->regularization_loss;
    out->rmse = (local.metrics & TFRS_METRIC_RMSE) ? sqrt(s[2] / s[4]) : 0.0;
    out->mae = (local.metrics & TFRS_METRIC_MAE) ? s[3] / s[4] : 0.0;
    return TFRS_OK;
}

/* Rank 0's whole file, or a status. */
static int read_file(const char *path, unsigned char **data, uint64_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;

    if (f == NULL)
        return tmpi_fail(TFRS_EIO, "%s: %s", path, strerror(errno));
    for (;;) {
        size_t got;
        if (n == cap) {
            unsigned char *q;
            cap = cap == 0 ? 1 << 16 : cap * 2;
            if ((q = realloc(buf, cap)) == NULL) {
                free(buf);
                fclose(f);
                return tmpi_fail(TFRS_ENOMEM, "%s: out of memory", path);
            }
            buf = q;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return tmpi_fail(TFRS_EIO, "%s: read error", path);
    }
    fclose(f);
    *data = buf;
    *size = n;
    return TFRS_OK;
}

int tfrs_mpi_resume(tfrs_model **model, MPI_Comm comm, const char *checkpoint, int *resumed)
{
    unsigned char *data = NULL;
    uint64_t size = 0;
    int me, rc = TFRS_OK, exists = 0, code;
    tfrs_model *m = NULL;

    tmpi_fail(TFRS_OK, NULL);
    MPI_Comm_rank(comm, &me);
    if (resumed != NULL)
        *resumed = 0;
    if (model == NULL || checkpoint == NULL)
        rc = tmpi_fail(TFRS_EINVAL, "tfrs_mpi_resume: model and checkpoint are needed");
    else if (me == 0) {
        FILE *f = fopen(checkpoint, "rb");
        exists = f != NULL;
        if (f != NULL)
            fclose(f);
        else if (errno != ENOENT)
            rc = tmpi_fail(TFRS_EIO, "%s: %s", checkpoint, strerror(errno));
        if (rc == TFRS_OK && exists)
            rc = read_file(checkpoint, &data, &size);
    }
    if ((rc = tmpi_agree(comm, rc)) != TFRS_OK) {
        free(data);
        return rc;
    }
    if ((code = MPI_Bcast(&exists, 1, MPI_INT, 0, comm)) != MPI_SUCCESS ||
        (code = MPI_Bcast(&size, 1, MPI_UINT64_T, 0, comm)) != MPI_SUCCESS) {
        free(data);
        return tmpi_mpi_error(code, "MPI_Bcast");
    }
    if (!exists)
        return TFRS_OK;
    if (me != 0 && (data = malloc(size != 0 ? size : 1)) == NULL)
        rc = tmpi_fail(TFRS_ENOMEM, "%s: out of memory for %llu bytes", checkpoint,
                       (unsigned long long)size);
    if ((rc = tmpi_agree(comm, rc)) != TFRS_OK) {
        free(data);
        return rc;
    }
    for (uint64_t off = 0; off < size;) {
        int k = size - off > (1u << 30) ? 1 << 30 : (int)(size - off);
        if ((code = MPI_Bcast(data + off, k, MPI_BYTE, 0, comm)) != MPI_SUCCESS) {
            free(data);
            return tmpi_mpi_error(code, "MPI_Bcast");
        }
        off += (uint64_t)k;
    }
    rc = tfrs_model_load_buffer(&m, data, (size_t)size);
    free(data);
    if (rc != TFRS_OK)
        tmpi_fail(rc, "%s: %s", checkpoint, tfrs_last_error());
    if ((rc = tmpi_agree(comm, rc)) != TFRS_OK) {
        tfrs_model_free(m);
        return rc;
    }
    tfrs_model_free(*model);
    *model = m;
    if (resumed != NULL)
        *resumed = 1;
    return TFRS_OK;
}
