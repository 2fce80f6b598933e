/*
 * layers.c - the library's layers as building blocks, without tfrs_model:
 * vocabularies, embeddings, dense layers and the ranking task wired by hand
 * into the tutorial's network, with a forward pass, a backward pass, a check
 * of the gradients by finite differences and a few steps of plain SGD.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 *   ./build/examples/layers
 *
 * Exits 0 when the backward pass's gradients agree with central differences
 * of the loss (relative difference below 1e-2), 1 otherwise.
 * --break-backward feeds the backward pass a gradient 10% too large, to
 * show that the check notices.  No data needed: the batch is made up.
 *
 * The network, in Keras terms:
 *   u = Embedding(users)(StringLookup(users)(user))      [B, 4]
 *   m = Embedding(items)(StringLookup(items)(item))      [B, 4]
 *   x = Concatenate()([u, m])                            [B, 8]
 *   h = Dense(4, "relu")(x); p = Dense(1)(h)             [B, 4], [B, 1]
 *   loss = MeanSquaredError()(rating, p)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfrsc.h"
#include "example.h"

enum { B = 5, D = 4, H = 4 };   /* batch, embedding dim, hidden units */

typedef struct net {
    tfrs_embedding    *user_emb, *item_emb;
    tfrs_dense        *hidden, *out;
    tfrs_ranking_task *task;
    int32_t            user_ids[B], item_ids[B];
    float              labels[B];
    float              u[B * D], m[B * D], x[B * 2 * D], h[B * H], p[B];
} net;

/* Forward: lookups, concatenation, two dense layers; the mean loss. */
static int forward(net *n, double *loss, float *dpred)
{
    int rc;

    if ((rc = tfrs_embedding_forward(n->user_emb, n->user_ids, B, n->u)) != TFRS_OK ||
        (rc = tfrs_embedding_forward(n->item_emb, n->item_ids, B, n->m)) != TFRS_OK)
        return rc;
    for (int i = 0; i < B; i++) {                   /* x[i] = [u[i], m[i]] */
        memcpy(&n->x[i * 2 * D], &n->u[i * D], D * sizeof(float));
        memcpy(&n->x[i * 2 * D + D], &n->m[i * D], D * sizeof(float));
    }
    if ((rc = tfrs_dense_forward(n->hidden, n->x, B, n->h)) != TFRS_OK ||
        (rc = tfrs_dense_forward(n->out, n->h, B, n->p)) != TFRS_OK)
        return rc;
    /* dpred[i] = d loss / d p[i] = 2 (p[i] - y[i]) / B for MSE */
    return tfrs_ranking_task_loss(n->task, n->p, n->labels, NULL, B, loss, dpred);
}

/* Backward, from dpred to every parameter's gradient (layers add into
 * their gradients, so they are zeroed first). */
static int backward(net *n, const float *dpred)
{
    float dh[B * H], dx[B * 2 * D], du[B * D], dm[B * D];
    int rc;

    tfrs_dense_zero_grad(n->out);
    tfrs_dense_zero_grad(n->hidden);
    tfrs_embedding_zero_grad(n->user_emb);
    tfrs_embedding_zero_grad(n->item_emb);
    if ((rc = tfrs_dense_backward(n->out, n->h, n->p, dpred, B, dh)) != TFRS_OK ||
        (rc = tfrs_dense_backward(n->hidden, n->x, n->h, dh, B, dx)) != TFRS_OK)
        return rc;
    for (int i = 0; i < B; i++) {                   /* split dx like x */
        memcpy(&du[i * D], &dx[i * 2 * D], D * sizeof(float));
        memcpy(&dm[i * D], &dx[i * 2 * D + D], D * sizeof(float));
    }
    if ((rc = tfrs_embedding_backward(n->user_emb, n->user_ids, B, du)) != TFRS_OK)
        return rc;
    return tfrs_embedding_backward(n->item_emb, n->item_ids, B, dm);
}

/* Central difference of the loss in weight w[k] of a table of `size`
 * values, set through `set` (the layers copy weights in; views are const). */
typedef int (*set_fn)(void *layer, const float *w, size_t size);

static int set_emb(void *layer, const float *w, size_t size)
{
    return tfrs_embedding_set_weights(layer, w, size);
}

static int set_kernel(void *layer, const float *w, size_t size)
{
    (void)size;
    return tfrs_dense_set_weights(layer, w, NULL);
}

/* Returns 0 if the gradient of the entry with the largest one agrees with
 * the central difference, 1 if not, a negative status if a call failed. */
static int check_one(net *n, const char *name, void *layer, set_fn set, const float *view,
                     const float *grad, size_t size)
{
    const float h = 1e-3f;
    float *w = malloc(size * sizeof(float));
    double lp = 0, lm = 0, fd, an, rel;
    size_t k = 0;
    float w0;
    int rc;

    if (w == NULL)
        return TFRS_ENOMEM;
    for (size_t i = 1; i < size; i++)               /* the largest gradient */
        if (fabsf(grad[i]) > fabsf(grad[k]))
            k = i;
    an = grad[k];
    memcpy(w, view, size * sizeof(float));
    w0 = w[k];
    w[k] = w0 + h;
    if ((rc = set(layer, w, size)) == TFRS_OK && (rc = forward(n, &lp, NULL)) == TFRS_OK) {
        w[k] = w0 - h;
        if ((rc = set(layer, w, size)) == TFRS_OK)
            rc = forward(n, &lm, NULL);
    }
    w[k] = w0;                                      /* put the weight back */
    if (rc == TFRS_OK)
        rc = set(layer, w, size);
    free(w);
    if (rc != TFRS_OK)
        return rc;
    fd = (lp - lm) / (2.0 * (double)h);
    rel = fabs(fd - an) / fmax(fmax(fabs(fd), fabs(an)), 1e-12);
    printf("%-22s [%zu]: backward %+.6e  finite difference %+.6e  relative %.1e  %s\n",
           name, k, an, fd, rel, rel < 1e-2 ? "ok" : "WRONG");
    return rel < 1e-2 ? 0 : 1;
}

int main(int argc, char **argv)
{
    static const char *const user_names[] = { "ana", "ben", "cleo" };
    static const char *const item_names[] = { "anchor", "bicycle", "compass", "drum" };
    static const char *const batch_users[B] = { "ana", "ben", "cleo", "ana", "dora" };
    static const char *const batch_items[B] = { "drum", "anchor", "drum", "compass", "bicycle" };
    static const float ratings[B] = { 5, 3, 4, 1, 2 };
    tfrs_vocab *users = NULL, *items = NULL;
    net n = { 0 };
    const float *g, *gb;
    const int32_t *rows;
    size_t touched;
    float dpred[B];
    double loss;
    int rc = 0, broken = 0, wrong = 0, c;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: %s [--break-backward]\n\nBuilds a tiny ranking network from "
                   "layers and checks its gradients.\n", argv[0]);
            return 0;
        } else if (strcmp(argv[i], "--break-backward") == 0) {
            broken = 1;
        } else {
            fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", argv[0], argv[i]);
            return 2;
        }
    }

    /* StringLookup(vocabulary=...): "[UNK]" is 0, so "dora" (unknown)
     * shares row 0 of the user table with every other newcomer. */
    EX_CHECK(tfrs_vocab_create(&users, user_names, 3, NULL));
    EX_CHECK(tfrs_vocab_create(&items, item_names, 4, NULL));
    EX_CHECK(tfrs_vocab_lookup_n(users, batch_users, B, n.user_ids));
    EX_CHECK(tfrs_vocab_lookup_n(items, batch_items, B, n.item_ids));
    memcpy(n.labels, ratings, sizeof(ratings));

    /* Tables of vocabulary_size() rows; each layer has its own seed. */
    EX_CHECK(tfrs_embedding_create(&n.user_emb, tfrs_vocab_size(users), D, 1));
    EX_CHECK(tfrs_embedding_create(&n.item_emb, tfrs_vocab_size(items), D, 2));
    EX_CHECK(tfrs_dense_create(&n.hidden, 2 * D, H, TFRS_ACT_RELU, 3));
    EX_CHECK(tfrs_dense_create(&n.out, H, 1, TFRS_ACT_LINEAR, 4));
    EX_CHECK(tfrs_ranking_task_create(&n.task, NULL));         /* MSE */

    EX_CHECK(forward(&n, &loss, dpred));
    printf("batch of %d: loss %.6f, first score %.6f\n", B, loss, (double)n.p[0]);
    if (broken)
        for (int i = 0; i < B; i++)
            dpred[i] *= 1.1f;
    EX_CHECK(backward(&n, dpred));

    /* The check: one kernel entry, one user embedding entry. */
    EX_CHECK(tfrs_dense_grad(n.hidden, &g, &gb));
    c = check_one(&n, "hidden kernel", n.hidden, set_kernel, tfrs_dense_kernel(n.hidden), g,
                  2 * D * H);
    EX_CHECK(c < 0 ? c : TFRS_OK);
    wrong += c;
    EX_CHECK(tfrs_embedding_grad(n.user_emb, &g, &rows, &touched));
    c = check_one(&n, "user embedding", n.user_emb, set_emb,
                  tfrs_embedding_weights(n.user_emb), g, tfrs_vocab_size(users) * D);
    EX_CHECK(c < 0 ? c : TFRS_OK);
    wrong += c;
    if (wrong) {
        printf("gradient check FAILED\n");
        rc = 1;
        goto out;
    }
    printf("gradient check passed (%zu user rows touched)\n", touched);

    /* The same gradients train: SGD, w -= 0.05 g on the output layer. */
    for (int step = 0; step < 20; step++) {
        float k[H], b;
        const float *dk, *db;

        EX_CHECK(forward(&n, &loss, dpred));
        EX_CHECK(backward(&n, dpred));
        EX_CHECK(tfrs_dense_grad(n.out, &dk, &db));
        for (int j = 0; j < H; j++)
            k[j] = tfrs_dense_kernel(n.out)[j] - 0.05f * dk[j];
        b = tfrs_dense_bias(n.out)[0] - 0.05f * db[0];
        EX_CHECK(tfrs_dense_set_weights(n.out, k, &b));
    }
    EX_CHECK(forward(&n, &loss, NULL));
    printf("after 20 SGD steps on the output layer: loss %.6f\n", loss);

out:
    tfrs_ranking_task_free(n.task);
    tfrs_dense_free(n.out);
    tfrs_dense_free(n.hidden);
    tfrs_embedding_free(n.item_emb);
    tfrs_embedding_free(n.user_emb);
    tfrs_vocab_free(items);
    tfrs_vocab_free(users);
    return rc;
}
