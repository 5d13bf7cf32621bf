package benchcmd

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/herd-io/herd/internal/loadgen"
)

// printer writes a run's report, its progress and its errors in one format.
type printer interface {
	result(loadgen.Result)
	progress(loadgen.Progress)
	error(error)
}

// textPrinter is the human format: the report on stdout, the rest on stderr.
type textPrinter struct{ stdout, stderr io.Writer }

func (p textPrinter) result(r loadgen.Result) { fmt.Fprint(p.stdout, loadgen.Format(r)) }

func (p textPrinter) progress(pr loadgen.Progress) {
	fmt.Fprintf(p.stderr, "%7s  %d ops  %.0f ops/s  %d errors\n",
		pr.Elapsed.Round(100*time.Millisecond), pr.Ops, pr.Rate, pr.Errors)
}

func (p textPrinter) error(err error) { fmt.Fprintf(p.stderr, "herd bench: %v\n", err) }

// jsonPrinter writes one JSON object per line: the report on stdout,
// {"progress":...} and {"error":...} lines on stderr.
type jsonPrinter struct{ stdout, stderr io.Writer }

// resultJSON is the report with its units in the names.
type resultJSON struct {
	Workload       string      `json:"workload"`
	Conns          int         `json:"conns"`
	Goroutines     int         `json:"goroutines"`
	Ops            int         `json:"ops"`
	Errors         int         `json:"errors"`
	ElapsedSeconds float64     `json:"elapsedSeconds"`
	OpsPerSec      float64     `json:"opsPerSec"`
	LatencyMs      latencyJSON `json:"latencyMs"`
}

type latencyJSON struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

type progressJSON struct {
	ElapsedSeconds float64 `json:"elapsedSeconds"`
	Ops            int64   `json:"ops"`
	Errors         int64   `json:"errors"`
	OpsPerSec      float64 `json:"opsPerSec"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (p jsonPrinter) result(r loadgen.Result) {
	writeJSON(p.stdout, resultJSON{
		Workload: string(r.Workload), Conns: r.Conns, Goroutines: r.Goroutines, Ops: r.Ops, Errors: r.Errors,
		ElapsedSeconds: r.Elapsed.Seconds(), OpsPerSec: r.OpsPerSec,
		LatencyMs: latencyJSON{ms(r.Min), ms(r.Mean), ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max)},
	})
}

func (p jsonPrinter) progress(pr loadgen.Progress) {
	writeJSON(p.stderr, map[string]progressJSON{"progress": {pr.Elapsed.Seconds(), pr.Ops, pr.Errors, pr.Rate}})
}

func (p jsonPrinter) error(err error) { writeJSON(p.stderr, map[string]string{"error": err.Error()}) }

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the values are plain structs: encoding cannot fail
}
