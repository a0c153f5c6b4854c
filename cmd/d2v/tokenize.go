package main

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/d2v/d2v/pkg/tokenizer"
)

type tokenizeOptions struct {
	vocab, merges, kind string
}

func newTokenizeCmd(runF func(*tokenizeOptions, *cobra.Command) error) *cobra.Command {
	o := &tokenizeOptions{}
	c := &cobra.Command{
		Use:   "tokenize",
		Short: "print the token ids of each stdin line (GPT-2 byte-level BPE or raw bytes)",
		Long: "Reads UTF-8 text on stdin and writes one line per input line: that line's token ids\n" +
			"(newline excluded) separated by single spaces. No <s>/</s> are added.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o, cmd)
			}
			return tokenizeRun(o, cmd)
		},
	}
	c.Flags().StringVar(&o.vocab, "vocab", "", "vocab.json or encoder.json (GPT-2 byte-level BPE)")
	c.Flags().StringVar(&o.merges, "merges", "", "merges.txt or vocab.bpe")
	c.Flags().StringVar(&o.kind, "tokenizer", "bpe", "bpe (needs --vocab and --merges) or bytes (no files)")
	return c
}

func tokenizeRun(o *tokenizeOptions, cmd *cobra.Command) error {
	var tok tokenizer.Tokenizer
	switch o.kind {
	case "bytes":
		tok = tokenizer.NewBytes()
	case "bpe":
		if o.vocab == "" || o.merges == "" {
			return usageError{fmt.Errorf("--tokenizer bpe needs --vocab and --merges")}
		}
		b, err := tokenizer.LoadBPE(o.vocab, o.merges)
		if err != nil {
			return usageError{err}
		}
		tok = b
	default:
		return usageError{fmt.Errorf("--tokenizer: must be one of bpe|bytes, got %q", o.kind)}
	}
	in := bufio.NewScanner(cmd.InOrStdin())
	in.Buffer(make([]byte, 1<<20), 1<<30)
	out := bufio.NewWriter(cmd.OutOrStdout())
	defer out.Flush()
	var sb strings.Builder
	for line := 1; in.Scan(); line++ {
		ids, err := tok.Encode(in.Text())
		if err != nil {
			return usageError{fmt.Errorf("stdin line %d: %w", line, err)}
		}
		sb.Reset()
		for i, id := range ids {
			if i > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(strconv.Itoa(id))
		}
		sb.WriteByte('\n')
		if _, err := out.WriteString(sb.String()); err != nil {
			return err
		}
	}
	return in.Err()
}
