// Package plot writes the trainer's pictures as PNG files: training curves
// (Lines, Panels), a confusion-matrix heat map (Confusion) and masked-input
// previews (MaskGrid).
//
// Curves and heat maps are drawn with gonum.org/v1/plot (imported as gplot);
// MaskGrid uses only the standard library's image/png. Every file is written
// atomically (a temporary file in the same directory, then rename), so a
// reader such as a browser auto-refresh never sees half a PNG. Resolution is
// DPI dots per inch.
package plot
