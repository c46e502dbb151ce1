/* Index-driven kernels of torch.nn.functional (csrc/loss.c): nll_loss forward and
 * backward, embedding lookup, its backward and max_norm renormalisation. */
#include "../ft.h"

/* nll_loss over a contiguous (n, c, d) float input and an int64 (n, d) target.
 * loss[i, j] = -w[t] * input[i, t, j] and weight_out[i, j] = w[t] (w = 1 without weight),
 * both 0 where t == ignore_index. A target outside [0, c) fails with torch's message. */
int ft_nll_loss(int dtype, int64_t n, int64_t c, int64_t d, intptr_t input, intptr_t target, intptr_t weight,
                int64_t ignore_index, intptr_t loss, intptr_t weight_out);
/* grad_input[i, t, j] = -w[t] * grad[i, j] (grad (n, d) contiguous, grad_input (n, c, d) zeroed). */
int ft_nll_loss_backward(int dtype, int64_t n, int64_t c, int64_t d, intptr_t target, intptr_t weight,
                         int64_t ignore_index, intptr_t grad, intptr_t grad_input);
/* out[k, :] = weight[index[k], :] for k < count (weight (num, dim) contiguous, int64 index). */
int ft_embedding(int dtype, int64_t num, int64_t dim, intptr_t weight, intptr_t index, int64_t count, intptr_t out);
/* grad_weight[index[k], :] += grad[k, :] except where index[k] == padding_idx (grad_weight zeroed). */
int ft_embedding_backward(int dtype, int64_t num, int64_t dim, intptr_t index, int64_t count, intptr_t grad,
                          int64_t padding_idx, intptr_t grad_weight);
/* torch's embedding_renorm_: rows of weight named by index whose p-norm exceeds max_norm are
 * scaled by max_norm / (norm + 1e-7), each row once. */
int ft_embedding_renorm(int dtype, int64_t num, int64_t dim, intptr_t weight, intptr_t index, int64_t count,
                        double max_norm, double norm_type);
/* pdist: out[k] = ||x[i] - x[j]||_p over the pairs i < j of the n rows of a contiguous (n, m) x, in
 * row-major pair order (torch's). p >= 0; p = inf is the max norm. */
int ft_pdist(int dtype, int64_t n, int64_t m, intptr_t x, double p, intptr_t out);
/* The gradient of pdist: grad_x (n, m), written whole, from grad and dist (both n (n - 1) / 2). */
int ft_pdist_backward(int dtype, int64_t n, int64_t m, intptr_t x, double p, intptr_t dist, intptr_t grad,
                      intptr_t grad_x);
