/*
 * header-c99.c - tfrsc.h must compile as strict C99 (-std=c99 -pedantic
 * -Werror).  Built, never run; it is not linked against the library, so it
 * only touches types, enums and macros.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "tfrsc.h"

#if TFRS_VERSION_NUMBER != \
    (TFRS_VERSION_MAJOR * 10000 + TFRS_VERSION_MINOR * 100 + TFRS_VERSION_PATCH)
#error "TFRS_VERSION_NUMBER disagrees with its parts"
#endif

/* Every function type is usable through a pointer declaration. */
typedef int (*create_fn)(tfrs_model **, uint64_t);

int main(void)
{
    tfrs_vocab_options vo;
    tfrs_fit_options fo;
    tfrs_metrics m;
    tfrs_scored sc;
    tfrs_status st = TFRS_OK;
    tfrs_activation act = TFRS_ACT_RELU;
    tfrs_column_type ct = TFRS_COLUMN_STRING;
    tfrs_optimizer_kind ok = TFRS_OPT_ADAGRAD;
    tfrs_loss loss = TFRS_LOSS_MSE;
    const char *version = TFRS_VERSION_STRING;
    create_fn fn = 0;
    unsigned flags = TFRS_SAVE_OPTIMIZER | TFRS_METRIC_MAE | TFRS_METRIC_AUC;

    /* Field by field, so that fields appended later need no change here. */
    vo.version = TFRS_VOCAB_OPTIONS_VERSION;
    vo.num_oov_indices = 1;
    vo.mask_token = NULL;
    fo.version = TFRS_FIT_OPTIONS_VERSION;
    fo.epochs = 3;
    fo.batch_size = 8192;
    fo.progress = NULL;
    m.metrics = TFRS_METRIC_RMSE;
    sc.index = 0;
    sc.score = 0.0f;

    (void)vo;
    (void)fo;
    (void)sc;
    (void)fn;
    return (int)((TFRS_VERSION_NUMBER + m.metrics + (unsigned)st + (unsigned)act +
                  (unsigned)ct + (unsigned)ok + (unsigned)loss + flags +
                  (unsigned)(version[0] == '0')) & 0u);
}
