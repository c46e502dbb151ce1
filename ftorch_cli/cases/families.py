"""Which family an op_db op belongs to, for the coverage report.

OpInfo has no family field, so the family comes from, in order: a namespace
prefix (linalg., special., fft., ...), a name table for the families the
roadmap names (indexing, shape and join, scans and sorting, random,
factories, views, linear algebra), the nn.functional sub-families by name,
then OpInfo's own class (UnaryUfuncInfo and BinaryUfuncInfo are elementwise,
ReductionOpInfo a reduction). Pure functions of names, so conform can group
the ops recorded in a manifest without torch.
"""
from __future__ import annotations

from typing import Optional

FAMILIES = (
    "elementwise", "reduction", "view", "factory", "indexing", "shape_join", "scan_sort", "linalg",
    "random", "activation", "nn.conv_pool", "nn.normalization", "nn.loss", "nn.other",
    "special", "fft", "signal", "masked", "sparse", "other",
)

_PREFIXES = {"linalg": "linalg", "special": "special", "fft": "fft", "signal": "signal", "masked": "masked",
             "sparse": "sparse"}

_NAMES = {
    "indexing": """__getitem__ index_add index_copy index_fill index_put index_reduce index_select gather scatter
        scatter_add scatter_reduce masked_fill masked_select masked_scatter take take_along_dim put nonzero
        nonzero_static argwhere unravel_index _unsafe_masked_index _unsafe_masked_index_put_accumulate""",
    "shape_join": """cat stack hstack vstack dstack column_stack split split_with_sizes split_with_sizes_copy chunk
        unsafe_chunk unsafe_split tensor_split hsplit vsplit dsplit unbind unbind_copy flip fliplr flipud roll rot90
        repeat repeat_interleave tile tril triu diag diag_embed diagflat diagonal_scatter select_scatter
        slice_scatter as_strided_scatter broadcast_tensors broadcast_shapes broadcast_to meshgrid atleast_1d
        atleast_2d atleast_3d block_diag cartesian_prod combinations narrow_copy constant_pad_nd _chunk_cat""",
    "view": """T H mT mH as_strided as_strided_copy expand expand_as expand_copy flatten narrow permute permute_copy
        reshape reshape_as select slice squeeze squeeze_copy t t_copy transpose transpose_copy unflatten unfold
        unfold_copy unsqueeze unsqueeze_copy view view_as view_copy movedim alias_copy contiguous clone diagonal
        diagonal_copy ravel resolve_conj resolve_neg item to sum_to_size resize_ resize_as_ view_as_real
        view_as_complex""",
    "scan_sort": """cumsum cumprod cummax cummin logcumsumexp sort argsort msort topk kthvalue median nanmedian mode
        unique unique_consecutive searchsorted bucketize histc histogram histogramdd bincount quantile nanquantile
        diff gradient trapz trapezoid cumulative_trapezoid isin""",
    "linalg": """mm bmm matmul mv dot vdot inner outer addmm addmv addbmm baddbmm addr einsum tensordot trace cholesky
        cholesky_inverse cholesky_solve qr svd svd_lowrank lu lu_solve lu_unpack geqrf ormqr triangular_solve
        pinverse logdet det matrix_exp cross cdist pca_lowrank corrcoef cov kron __rmatmul__ norm dist renorm""",
    "random": """randn bernoulli cauchy exponential geometric log_normal multinomial normal uniform rand_like randint
        randint_like randn_like nn.functional.dropout nn.functional.dropout2d nn.functional.dropout3d
        nn.functional.alpha_dropout nn.functional.feature_alpha_dropout nn.functional.rrelu native_dropout_backward""",
    "factory": """arange empty empty_like empty_permuted empty_strided eye full full_like linspace logspace new_empty
        new_empty_strided new_full new_ones new_zeros ones ones_like zeros zeros_like scalar_tensor tril_indices
        triu_indices zero_""",
    "fft": "stft istft",
    "activation": "softmax log_softmax _softmax_backward_data",
    "reduction": "logsumexp std_mean var_mean aminmax max min allclose equal",
    "nn.normalization": """native_batch_norm native_layer_norm native_group_norm _native_batch_norm_legit
        _batch_norm_with_update""",
    "nn.conv_pool": "max_pool2d_with_indices_backward grid_sampler_2d grid_sampler_3d _upsample_bilinear2d_aa",
}
_TABLE = {name: family for family, names in _NAMES.items() for name in names.split()}

# nn.functional.<name> sub-families, by the first matching word
_NN_WORDS = (
    ("loss", "nn.loss"), ("cross_entropy", "nn.loss"), ("kl_div", "nn.loss"),
    ("norm", "nn.normalization"),
    ("conv", "nn.conv_pool"), ("pool", "nn.conv_pool"), ("interpolate", "nn.conv_pool"),
    ("upsample", "nn.conv_pool"), ("pixel_", "nn.conv_pool"), ("grid_sample", "nn.conv_pool"),
    ("affine_grid", "nn.conv_pool"), ("unfold", "nn.conv_pool"), ("fold", "nn.conv_pool"),
)
_NN_OTHER = {"linear", "bilinear", "embedding", "embedding_bag", "one_hot", "pad", "cosine_similarity",
             "pairwise_distance", "pdist", "channel_shuffle", "scaled_dot_product_attention",
             "multi_head_attention_forward", "unfold", "fold"}


def family_of(name: str, opinfo_class: Optional[str] = None) -> str:
    """The family of op_db op `name` (OpInfo name, e.g. "nn.functional.conv2d"); opinfo_class is the
    OpInfo subclass name when known ("UnaryUfuncInfo", ...)."""
    if name in _TABLE:
        return _TABLE[name]
    prefix, _, rest = name.partition(".")
    if prefix in _PREFIXES and rest:
        return _PREFIXES[prefix]
    if name.startswith("nn.functional."):
        short = name[len("nn.functional."):]
        if short in _NN_OTHER and "fold" not in short:
            return "nn.other"
        for word, family in _NN_WORDS:
            if word in short:
                return family
        return "activation"
    if opinfo_class in ("UnaryUfuncInfo", "BinaryUfuncInfo"):
        return "elementwise"
    if opinfo_class == "ReductionOpInfo":
        return "reduction"
    if opinfo_class == "SpectralFuncInfo":
        return "fft"
    if opinfo_class == "ShapeFuncInfo":
        return "shape_join"
    if name.startswith(("add", "lerp", "clamp", "where", "logaddexp", "xlogy")):
        return "elementwise"
    return "other"
