package model

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/d2v/d2v/pkg/checkpoint"
	"github.com/d2v/d2v/pkg/ops"
)

// The decoder's share of the two public data2vec 2.0 reference fixtures
// (the PyTorch reference step, ref_step.py --method data2vec2), cut down to
// what the decoder alone needs for step 1: the student output and the
// masks (its input), the decoder's initial parameters, and the
// predictions, targets and raw decoder gradients the reference computed.
// The full fixtures are replayed by the training step's parity test; this
// one isolates the decoder. Regenerate with
//
//	D2V_REF_FIXTURES=<folder of d2v2_*.safetensors> go test -run TestDecoderFixture ./pkg/model
var decoderFixtures = []string{"d2v2_patches_2d", "d2v2_tokens_1d"}

const decoderFixtureDir = "testdata/decoder"

// decoderFixtureKeep lists the metadata the replay reads.
var decoderFixtureKeep = []string{"decoder", "dim", "seq", "clones", "n_extra_tokens", "loss_scale_value", "sample_size", "beta",
	"dec_dim", "dec_kernel", "dec_groups", "dec_layers", "dec_residual", "dec_proj_layers", "decoder_rule", "decoder_mask_fill"}

// cutDecoderFixture writes the decoder's share of src to dst.
func cutDecoderFixture(src, dst string) error {
	f, err := checkpoint.Read(src)
	if err != nil {
		return err
	}
	var keep []checkpoint.Tensor
	for _, n := range f.Order {
		if strings.HasPrefix(n, "init.decoder.") || strings.HasPrefix(n, "grad.1.decoder.") ||
			n == "batch.1.mask" || n == "out.1.student_out" || n == "out.1.pred" || n == "out.1.targets" {
			keep = append(keep, f.Tensors[n])
		}
	}
	meta := map[string]string{"source": filepath.Base(src) + ", step 1, decoder tensors only"}
	for _, k := range decoderFixtureKeep {
		v, ok := f.Meta[k]
		if !ok {
			return fmt.Errorf("%s: metadata %q missing", src, k)
		}
		meta[k] = v
	}
	return checkpoint.Write(dst, keep, meta)
}

func TestDecoderFixture(t *testing.T) {
	if dir := os.Getenv("D2V_REF_FIXTURES"); dir != "" {
		for _, n := range decoderFixtures {
			if err := cutDecoderFixture(filepath.Join(dir, n+".safetensors"), filepath.Join(decoderFixtureDir, n+".safetensors")); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, n := range decoderFixtures {
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			t.Run(fmt.Sprintf("%s/%v", n, dt), func(t *testing.T) {
				replayDecoder(t, filepath.Join(decoderFixtureDir, n+".safetensors"), dt)
			})
		}
	}
}

// fixtureDecoder reads the decoder's configuration from the metadata.
func fixtureDecoder(f *checkpoint.File) (Decoder, error) {
	var errs []string
	num := func(k string) int {
		v, err := strconv.Atoi(f.Meta[k])
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s=%q", k, f.Meta[k]))
		}
		return v
	}
	d := Decoder{Kind: DecoderKind(f.Meta["decoder"]), Dim: num("dim"), DecDim: num("dec_dim"), Kernel: num("dec_kernel"),
		Groups: num("dec_groups"), Layers: num("dec_layers"), Residual: f.Meta["dec_residual"] == "True",
		ProjLayers: num("dec_proj_layers"), Positions: num("seq"), LNEps: 1e-5}
	if len(errs) > 0 {
		return d, fmt.Errorf("bad metadata %s", strings.Join(errs, ", "))
	}
	return d, d.Validate()
}

func fixtureFloats(t *testing.T, f *checkpoint.File, name string) []float64 {
	t.Helper()
	x, ok := f.Tensors[name]
	if !ok {
		t.Fatalf("tensor %q missing", name)
	}
	v, err := x.Float64s()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// replayDecoder loads the fixture's decoder, runs it on the reference's
// student output, takes the reference's L2 loss (sum (pred-targets)^2 *
// loss_scale / sample_size; the CLS loss does not reach the decoder) and
// compares the predictions and every decoder gradient.
func replayDecoder(t *testing.T, path string, dt tensor.Dtype) {
	f, err := checkpoint.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := fixtureDecoder(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if f.Meta["beta"] != "0.0" {
		t.Fatalf("%s: beta %s, the replay takes the L2 loss", path, f.Meta["beta"])
	}
	p := NewParams(dt)
	d.Declare(p)
	for _, n := range p.Names() {
		x := f.Tensors["init."+n]
		if !tensor.Shape(x.Shape).Eq(p.Get(n).Shape()) {
			t.Fatalf("init.%s has shape %v, the decoder declares %v", n, x.Shape, p.Get(n).Shape())
		}
		if err := p.Set(n, fixtureFloats(t, f, "init."+n)); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := f.Tensors["batch.1.mask"].Int64s()
	if err != nil {
		t.Fatal(err)
	}
	mask := make([]bool, len(ms))
	for i, v := range ms {
		mask[i] = v != 0
	}
	extra, _ := strconv.Atoi(f.Meta["n_extra_tokens"])
	clones, _ := strconv.Atoi(f.Meta["clones"])
	scale, _ := strconv.ParseFloat(f.Meta["loss_scale_value"], 64)
	n := len(mask) / d.Positions
	out := fixtureFloats(t, f, "out.1.student_out")
	pred, targets := fixtureFloats(t, f, "out.1.pred"), fixtureFloats(t, f, "out.1.targets")
	nm := len(pred) / d.Dim
	place, rows := make([]float64, n*d.Positions), make([]float64, nm)
	if err := ops.CloneIndex(nil, place, rows, mask, n, d.Positions, clones, extra); err != nil {
		t.Fatal(err)
	}

	g := NewGraph(dt, p)
	on, ot := g.Input("student_out", len(out)/d.Dim, d.Dim)
	pn, pt := g.Input("place", len(place))
	rn, rt := g.Input("rows", len(rows))
	tn, tt := g.Input("targets", nm, d.Dim)
	for _, c := range []struct {
		t *tensor.Dense
		v []float64
	}{{ot, out}, {pt, place}, {rt, rows}, {tt, targets}} {
		setFloats(c.t, c.v)
	}
	x, err := d.Input(g, on, pn)
	if err != nil {
		t.Fatal(err)
	}
	y, err := d.Build(g, x)
	if err != nil {
		t.Fatal(err)
	}
	pr := G.Must(ops.Gather(y, rn)) // (n_masked_total, D), rows in the reference's order
	cost := G.Must(ops.RegressionLoss(pr, tn, 0, scale/float64(nm)))
	names := p.Names()
	grads, err := G.Grad(cost, g.Nodes(names)...)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	// The parity bar is 1e-4; both widths agree to under 1e-6
	// (float32 is the reference's own width; float64 shows what the
	// float32 fixture allows), so hold them to 1e-5.
	const tol = 1e-5
	if e := relErr(values(pr), pred); e > tol {
		t.Errorf("pred: rel err %.3g vs the reference", e)
	} else {
		t.Logf("pred: rel err %.2g", e)
	}
	for i, name := range names {
		want := fixtureFloats(t, f, "grad.1."+name)
		if e := relErr(values(grads[i]), want); e > tol {
			t.Errorf("grad %s: rel err %.3g vs the reference", name, e)
		} else {
			t.Logf("grad %s: rel err %.2g", name, e)
		}
	}
}

// values returns a node's value as float64.
func values(n *G.Node) []float64 {
	switch v := n.Value().Data().(type) {
	case []float32:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	case []float64:
		return v
	}
	panic(fmt.Sprintf("unexpected %T", n.Value().Data()))
}
