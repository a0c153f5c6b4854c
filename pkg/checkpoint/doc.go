// Package checkpoint reads and writes safetensors files and manages the
// checkpoints of a run folder.
//
// # Format
//
// A safetensors file is
//
//	u64 little-endian N | N bytes of JSON header | data section
//
// The header maps each tensor name to
//
//	{"dtype": "F32", "shape": [16, 32], "data_offsets": [begin, end]}
//
// where the offsets are bytes relative to the start of the data section. The
// tensors tile the data section exactly: no gaps, no overlaps, no trailing
// bytes. Data is row-major and little-endian. The optional key
// "__metadata__" maps strings to strings. We pad the header with spaces so
// that N is a multiple of 8 (the data section then starts 8-byte aligned);
// the reader accepts unpadded headers too, as other writers produce them.
//
// Supported dtypes are F32, F64, I64, I32 and U8; anything else (F16, BF16,
// BOOL, ...) is rejected with an error naming the tensor.
//
// We write our own reader and writer rather than use a library so that we
// control validation and error messages: [Parse] checks every field and
// returns one-line errors naming the file and the tensor, and never panics on
// corrupt input (see FuzzParse). [Write] is atomic: a crash or a full disk
// leaves either the old file or the new one, never a torn one. Output is
// deterministic: the same tensors and metadata give a byte-identical file.
//
// # Naming convention
//
// Tensor names are hierarchical, dot-separated paths with zero-padded block
// indices, e.g. "student.blocks.03.attn.q.w", with a "teacher." twin for every
// EMA parameter. The same string is the parameter's name in the model and its
// EMA pairing key. Every linear weight is stored (in, out), so y = x @ W + b,
// with bias b of shape (out). This package does not enforce the convention:
// any non-empty name is accepted.
//
// # Metadata
//
// A training checkpoint carries in "__metadata__":
//
//	config          the resolved config as YAML (architecture comes back from it on resume)
//	step            the optimizer step, decimal
//	format_version  "1"
//
// # Run folders
//
// Checkpoints of a run live as dir/ckpt-%08d.safetensors ([StepPath]);
// [List], [Latest] and [Prune] find and rotate them. [Check] compares a file
// against the shapes a model expects before loading.
package checkpoint
