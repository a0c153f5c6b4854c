package step

import "github.com/d2v/d2v/pkg/model"

// Params returns the student (and head), the teacher and the trainable names.
func (d *D2V) Params() (*model.Params, *model.Params, []string) { return d.Student, d.Teacher, d.Names }

// Params returns the student (and decoder), the teacher and the trainable names.
func (d *D2V2) Params() (*model.Params, *model.Params, []string) {
	return d.Student, d.Teacher, d.Names
}

// Pairs returns the (teacher, student) parameter names the EMA updates
// together; the GPU step updates the same pairs.
func (d *D2V) Pairs() [][2]string { return d.pairs }
