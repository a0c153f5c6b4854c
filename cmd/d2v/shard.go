package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/d2v/d2v/pkg/shard"
)

type shardOptions struct {
	from, in, out, split, docs string
	perShard                   int
	seed                       int64
	testFrac                   float64
	verify                     bool
}

func newShardCmd(runF func(*shardOptions, *cobra.Command) error) *cobra.Command {
	o := &shardOptions{}
	c := &cobra.Command{
		Use:   "shard",
		Short: "convert a dataset once into tar shards that pretraining streams (data.source: shards)",
		Long: "Writes --out/shard-NNNNNN.tar (WebDataset layout: <key>.png|.jpg|.wav|.txt, plus <key>.cls\n" +
			"for a class) with --per-shard examples each, and --out/manifest.json (counts, classes,\n" +
			"sizes, SHA-256 per shard). Pretraining reads such a folder a window at a time, so the\n" +
			"dataset may be much larger than memory. With --verify, checks an existing folder instead.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o, cmd)
			}
			return shardRun(o, cmd)
		},
	}
	f := c.Flags()
	f.StringVar(&o.from, "from", "folder", "input layout: folder (<class>/<image>), idx (MNIST files), speech (<class>/*.wav or flat), text (.txt file or folder)")
	f.StringVar(&o.in, "in", "", "input file or folder")
	f.StringVar(&o.out, "out", "", "output folder (must not hold a manifest yet)")
	f.IntVar(&o.perShard, "per-shard", 1000, "examples per shard")
	f.Int64Var(&o.seed, "seed", 0, "folder and speech: the examples are written in a permutation drawn from this seed, so shuffle windows mix classes")
	f.StringVar(&o.split, "split", "train", "idx: train or test")
	f.StringVar(&o.docs, "docs", "paragraph", "text: one example per paragraph or per file")
	f.Float64Var(&o.testFrac, "test-frac", 0.25, "speech: write only the voice-disjoint train split with this fraction of voices held out, as pretraining on the folder reads it (modalities.audio.test_frac); 0 = every clip")
	f.BoolVar(&o.verify, "verify", false, "check the SHA-256 of every shard in --out against its manifest, write nothing")
	return c
}

func shardRun(o *shardOptions, cmd *cobra.Command) error {
	log := cmd.ErrOrStderr()
	if o.out == "" {
		return usageError{fmt.Errorf("--out: required")}
	}
	if o.verify {
		m, err := shard.ReadManifest(o.out)
		if err != nil {
			return usageError{err}
		}
		if err := m.Verify(o.out); err != nil {
			return usageError{err}
		}
		fmt.Fprintf(cmd.OutOrStdout(), "ok: %s\n", m.Summary(o.out))
		return nil
	}
	if o.in == "" {
		return usageError{fmt.Errorf("--in: required")}
	}
	var m *shard.Manifest
	var err error
	switch o.from {
	case "folder":
		m, err = shard.FromImageFolder(o.in, o.out, o.perShard, o.seed)
	case "idx":
		m, err = shard.FromIDX(o.in, o.split, o.out, o.perShard)
	case "speech":
		var skipped []string
		m, skipped, err = shard.FromSpeechDir(o.in, o.out, o.perShard, o.seed, o.testFrac)
		for _, s := range skipped {
			fmt.Fprintln(log, s)
		}
		if len(skipped) > 0 {
			fmt.Fprintf(log, "%d clips skipped, as the speech folder loader skips them\n", len(skipped))
		}
	case "text":
		m, err = shard.FromText(o.in, o.docs, o.out, o.perShard)
	default:
		return usageError{fmt.Errorf("--from: must be one of folder|idx|speech|text, got %q", o.from)}
	}
	if err != nil {
		return usageError{err}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", m.Summary(o.out))
	return nil
}
