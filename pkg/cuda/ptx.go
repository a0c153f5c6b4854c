package cuda

import _ "embed"

// PTX is kernels/d2v.cu compiled by scripts/gen-ptx.sh (compute_90).
//
//go:embed kernels/d2v.ptx
var PTX string

// Kernels lists every kernel the device launches; a test checks each is an
// entry of PTX.
var Kernels = []string{
	"d2v_fill", "d2v_copy", "d2v_add", "d2v_add_to", "d2v_scale", "d2v_bias_rows", "d2v_gather_rows",
	"d2v_scatter_add_rows", "d2v_mask_pos", "d2v_mask_pos_bwd", "d2v_col_sum", "d2v_ln_bwd_gb",
	"d2v_layernorm", "d2v_ln_bwd_x", "d2v_softmax", "d2v_softmax_bwd", "d2v_norm_rows", "d2v_norm_cols",
	"d2v_gelu", "d2v_gelu_bwd", "d2v_reg_loss", "d2v_sumsq", "d2v_sum_partials", "d2v_adamw", "d2v_ema",
}
