package queue

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lapor/intake/internal/durable"
	"github.com/lapor/intake/record"
)

// The spool keeps records while Redis is unreachable. It is a directory of append-only
// JSON-lines files named spool-<unix nanos>-<seq>.jsonl, so names sort in write order.
// Every append is fsynced before the writer answers its callers. The drainer replays the
// files oldest first through the same scripts (so nothing is doubled), then deletes them;
// a file it cannot read or parse is renamed to *.corrupt and never deleted. The dedupe
// keys of spooled records are indexed in memory (rebuilt from the files at Open), so a
// provider's retry during an outage gets the first answer.

const (
	spoolPrefix    = "spool-"
	spoolSuffix    = ".jsonl"
	corruptSuffix  = ".corrupt"
	spoolMaxItems  = 10000
	spoolMaxBytes  = 64 << 20
	spoolLockName  = ".lock"
	spoolProbeName = ".probe-"
)

// spoolLine is one spooled write, one JSON object per line.
type spoolLine struct {
	Op        string          `json:"op"` // publish, stage, reject
	ID        string          `json:"id,omitempty"`
	Ref       string          `json:"ref,omitempty"`
	Counter   bool            `json:"counter,omitempty"` // ref issued by the counter: no claim`
	Channel   string          `json:"channel,omitempty"`
	Dedupe    string          `json:"dedupe,omitempty"`
	Token     string          `json:"token,omitempty"`
	Hash      string          `json:"hash,omitempty"` // request hash (Complaint.RequestHash)
	Complaint json.RawMessage `json:"complaint,omitempty"`
	Reject    *rejectEntry    `json:"reject,omitempty"`
	Burst     *burstLine      `json:"burst,omitempty"` // op burst: Complaint is the part
}

type spoolFile struct {
	name    string
	items   int
	keys    []string // index keys first spooled in this file
	bursts  []string // the burst keys of the burst parts in this file, one per part
	damaged bool     // some lines did not parse: quarantine after delivering the rest
}

// spooled is what the spool's index knows of a spooled record.
type spooled struct {
	res  Result
	hash string // the request hash it was spooled with
}

type spool struct {
	dir  string
	log  *slog.Logger
	lock *os.File

	mu         sync.Mutex
	active     *os.File
	activeFile *spoolFile
	activeSize int64
	files      []*spoolFile // closed files waiting for the drainer, oldest first
	index      map[string]spooled
	// bursts counts the spooled parts per burst key: a later part of the same citizen's
	// burst is spooled behind them, so parts reach their burst in arrival order.
	bursts map[string]int
	seq    uint64
	buf    bytes.Buffer
	enc    *json.Encoder

	count atomic.Int64
	// corrupt counts the quarantined (*.corrupt) files in the directory: each holds records
	// that were answered but never delivered, so an operator must look (a metric).
	corrupt atomic.Int64
}

func openSpool(dir string, log *slog.Logger) (*spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("queue: cannot create spool directory %s: %w (set INTAKE_SPOOL_DIR to a writable directory)", dir, err)
	}
	// A directory that existed before keeps its own mode; the spool holds personal data, so
	// it is narrowed to the owner (the files themselves are created 0600).
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return nil, fmt.Errorf("queue: spool directory %s is readable by others (mode %v) and cannot be narrowed to 0700: %w (chmod 700 it, or set INTAKE_SPOOL_DIR to a directory this user owns)", dir, fi.Mode().Perm(), err)
		}
		log.Warn("spool directory was readable by others; its mode is now 0700", "spool_dir", dir, "was", fi.Mode().Perm().String())
	}
	s := &spool{dir: dir, log: log, index: map[string]spooled{}, bursts: map[string]int{}}
	s.enc = json.NewEncoder(&s.buf)
	s.enc.SetEscapeHTML(false)
	if err := s.probe(); err != nil {
		return nil, fmt.Errorf("queue: spool directory %s is not writable: %w (set INTAKE_SPOOL_DIR to a writable directory)", dir, err)
	}
	lock, err := lockDir(filepath.Join(dir, spoolLockName))
	if err != nil {
		return nil, fmt.Errorf("queue: spool directory %s is in use by another intake process (%v); give each process its own INTAKE_SPOOL_DIR", dir, err)
	}
	s.lock = lock
	if err := s.load(); err != nil {
		_ = s.close()
		return nil, err
	}
	return s, nil
}

// load indexes the files a previous process left behind.
func (s *spool) load() error {
	names, err := s.list()
	if err != nil {
		return fmt.Errorf("queue: cannot list spool directory %s: %w", s.dir, err)
	}
	if old, _ := filepath.Glob(filepath.Join(s.dir, spoolPrefix+"*"+corruptSuffix)); len(old) > 0 {
		s.corrupt.Store(int64(len(old)))
		s.log.Error("spool directory holds quarantined files from earlier runs; inspect them and replay their records by hand",
			"count", len(old), "spool_dir", s.dir)
	}
	total := 0
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(s.dir, name))
		if err != nil {
			s.quarantine(name, err)
			continue
		}
		lines, damaged, torn := parseSpool(data)
		if torn {
			s.log.Warn("spool file ends in an incomplete line, written when a process died before answering; that line is skipped", "file", name)
		}
		if len(lines) == 0 {
			if damaged {
				s.quarantine(name, errors.New("no readable record"))
			} else {
				_ = os.Remove(filepath.Join(s.dir, name))
			}
			continue
		}
		f := &spoolFile{name: name, items: len(lines), damaged: damaged}
		for _, l := range lines {
			o := l.op()
			if k := o.indexKey(); k != "" {
				if _, ok := s.index[k]; !ok {
					s.index[k] = spooled{Result{ID: o.id, Reference: o.ref, Spooled: true}, o.hash}
					f.keys = append(f.keys, k)
				}
			}
			if l.Burst != nil {
				f.bursts = append(f.bursts, l.Burst.Key)
				s.bursts[l.Burst.Key]++
			}
		}
		s.files = append(s.files, f)
		total += f.items
	}
	s.count.Store(int64(total))
	if total > 0 {
		s.log.Info("spool holds records from an earlier run; they go to redis when it answers",
			"records", total, "files", len(s.files), "spool_dir", s.dir)
	}
	return nil
}

func (s *spool) list() ([]string, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasPrefix(n, spoolPrefix) && strings.HasSuffix(n, spoolSuffix) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

// parseSpool splits a spool file into its records. damaged: a complete line did not parse
// (the file goes to quarantine once the rest is delivered). torn: the last line is
// incomplete, which only happens when a process died mid-write, before answering anyone.
func parseSpool(data []byte) (lines []spoolLine, damaged, torn bool) {
	for len(data) > 0 {
		raw, rest, complete := bytes.Cut(data, []byte{'\n'})
		data = rest
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		var l spoolLine
		if err := json.Unmarshal(raw, &l); err != nil || !l.valid() {
			if complete {
				damaged = true
			} else {
				torn = true
			}
			continue
		}
		lines = append(lines, l)
	}
	return lines, damaged, torn
}

func (l *spoolLine) valid() bool {
	switch l.Op {
	case "publish", "stage":
		return l.ID != "" && l.Ref != "" && l.Channel != "" && len(l.Complaint) > 0 && l.Complaint[0] == '{'
	case "reject":
		return l.Reject != nil && l.Reject.Reason != "" && (l.Dedupe != "" || l.Token != "")
	case "burst":
		return l.ID != "" && l.Ref != "" && l.Channel != "" && l.Burst != nil && l.Burst.Key != "" &&
			len(l.Complaint) > 0 && l.Complaint[0] == '{'
	}
	return false
}

func (l *spoolLine) op() *op {
	o := &op{id: l.ID, ref: l.Ref, counter: l.Counter, channel: l.Channel, dedupe: l.Dedupe, token: l.Token, hash: l.Hash, replay: true}
	switch l.Op {
	case "publish":
		o.kind, o.body = opPublish, l.Complaint
	case "stage":
		o.kind, o.body = opStage, l.Complaint
	case "burst":
		o.kind, o.body, o.burst = opBurst, l.Complaint, l.Burst
	default:
		o.kind, o.rej = opReject, l.Reject
	}
	return o
}

func (s *spool) size() int64 { return s.count.Load() }

// holdsBurst reports whether parts of burst key wait in the spool (any key when key is "").
func (s *spool) holdsBurst(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if key == "" {
		return len(s.bursts) > 0
	}
	return s.bursts[key] > 0
}

// lookup answers the ops of batch whose provider message is already in the spool.
func (s *spool) lookup(batch []*op) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range batch {
		if o.state != stateTodo {
			continue
		}
		if e, ok := s.index[o.indexKey()]; ok && o.dedupe != "" {
			e.answer(o)
		}
	}
}

// answer settles o, whose dedupe key e holds: a repeat of e, or (another request hash) a
// reused key.
func (e spooled) answer(o *op) {
	if o.hash != "" && e.hash != "" && o.hash != e.hash {
		o.finish(Result{ID: e.res.ID, Reference: e.res.Reference}, fmt.Errorf("queue: record %s: %w (the key was first used by spooled record %s)", o.id, record.ErrKeyReused, e.res.ID))
		return
	}
	r := e.res
	r.Duplicate = true
	o.finish(r, nil)
}

// append writes the ops of batch still to do as one fsynced append. A provider message
// already spooled (earlier, or earlier in this batch) is answered as a duplicate.
func (s *spool) append(batch []*op) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Reset()
	var added []string
	var written []*op
	for _, o := range batch {
		if o.state != stateTodo {
			continue
		}
		k := o.indexKey()
		if k != "" {
			if e, ok := s.index[k]; ok {
				e.answer(o)
				continue
			}
			s.index[k] = spooled{Result{ID: o.id, Reference: o.ref, Spooled: true, ReceiptHeld: o.held}, o.hash}
			added = append(added, k)
		}
		l := spoolLine{Op: o.kind.String(), ID: o.id, Ref: o.ref, Counter: o.counter, Channel: o.channel, Dedupe: o.dedupe, Token: o.token, Hash: o.hash}
		switch o.kind {
		case opReject:
			l.Reject = o.rej
		case opBurst:
			l.Complaint, l.Burst = o.body, o.burst
		default:
			l.Complaint = o.body
		}
		if err := s.enc.Encode(&l); err != nil {
			for _, k := range added {
				delete(s.index, k)
			}
			return fmt.Errorf("encode spool line: %w", err)
		}
		written = append(written, o)
	}
	if len(written) == 0 {
		return nil
	}
	if err := s.write(s.buf.Bytes()); err != nil {
		for _, k := range added {
			delete(s.index, k)
		}
		return err
	}
	s.activeFile.items += len(written)
	s.activeFile.keys = append(s.activeFile.keys, added...)
	s.count.Add(int64(len(written)))
	for _, o := range written {
		if o.burst != nil {
			s.activeFile.bursts = append(s.activeFile.bursts, o.burst.Key)
			s.bursts[o.burst.Key]++
		}
		o.finish(Result{ID: o.id, Reference: o.ref, Spooled: true, ReceiptHeld: o.held}, nil)
	}
	if s.activeFile.items >= spoolMaxItems || s.activeSize >= spoolMaxBytes {
		s.rotate()
	}
	return nil
}

// write appends p to the active file (creating one when needed) and fsyncs it. On failure
// the file is cut back and closed, so a torn write never sits between good lines.
func (s *spool) write(p []byte) error {
	if s.active == nil {
		s.seq++
		name := fmt.Sprintf("%s%020d-%06d%s", spoolPrefix, time.Now().UnixNano(), s.seq%1000000, spoolSuffix)
		f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("create spool file: %w", err)
		}
		if err := durable.SyncDir(s.dir); err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
			return fmt.Errorf("sync spool directory: %w", err)
		}
		s.active, s.activeFile, s.activeSize = f, &spoolFile{name: name}, 0
	}
	_, err := s.active.Write(p)
	if err == nil {
		err = s.active.Sync()
	}
	if err != nil {
		_ = s.active.Truncate(s.activeSize)
		s.rotate()
		return fmt.Errorf("append to spool file: %w", err)
	}
	s.activeSize += int64(len(p))
	return nil
}

// rotate closes the active file and queues it for the drainer (or removes it when empty).
func (s *spool) rotate() {
	if s.active == nil {
		return
	}
	_ = s.active.Close()
	if s.activeFile.items > 0 {
		s.files = append(s.files, s.activeFile)
	} else {
		_ = os.Remove(filepath.Join(s.dir, s.activeFile.name))
	}
	s.active, s.activeFile, s.activeSize = nil, nil, 0
}

// next returns the oldest file waiting to be drained, closing the active file when it is
// the only one left; nil when the spool is empty.
func (s *spool) next() *spoolFile {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.files) == 0 {
		s.rotate()
	}
	if len(s.files) == 0 {
		return nil
	}
	return s.files[0]
}

// finish forgets f, delivered: its keys leave the index (Redis holds them now) and the
// file is deleted, or quarantined when it was damaged.
func (s *spool) finish(f *spoolFile) {
	s.forget(f)
	if f.damaged {
		s.quarantine(f.name, errors.New("some lines did not parse; the readable records were delivered"))
		return
	}
	if err := os.Remove(filepath.Join(s.dir, f.name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Error("cannot remove a drained spool file; its records would be replayed (harmlessly) at the next start", "file", f.name, "error", err)
	}
	_ = durable.SyncDir(s.dir)
}

// drop forgets f without delivering it (the file could not be read and was quarantined).
func (s *spool) drop(f *spoolFile) {
	f.damaged = false
	s.forget(f)
}

// forget takes f's keys out of the index and f out of the list of files to drain.
func (s *spool) forget(f *spoolFile) {
	s.mu.Lock()
	for _, k := range f.keys {
		delete(s.index, k)
	}
	for _, k := range f.bursts {
		if s.bursts[k]--; s.bursts[k] <= 0 {
			delete(s.bursts, k)
		}
	}
	if len(s.files) > 0 && s.files[0] == f {
		s.files = s.files[1:]
	}
	s.count.Add(-int64(f.items))
	s.mu.Unlock()
}

// quarantine renames a spool file that cannot be read to *.corrupt. It is never deleted:
// an operator inspects it (each line is one JSON record).
func (s *spool) quarantine(name string, cause error) {
	from := filepath.Join(s.dir, name)
	to := from + corruptSuffix
	if err := os.Rename(from, to); err != nil {
		s.log.Error("cannot quarantine an unreadable spool file; it stays in place", "file", name, "cause", cause, "error", err)
		return
	}
	_ = durable.SyncDir(s.dir)
	s.corrupt.Add(1)
	s.log.Error("spool file quarantined: it could not be read; inspect it and replay its records by hand",
		"file", filepath.Base(to), "spool_dir", s.dir, "cause", cause)
}

// probe checks that the spool directory takes a durable write.
func (s *spool) probe() error {
	f, err := os.CreateTemp(s.dir, spoolProbeName+"*")
	if err != nil {
		return err
	}
	name := f.Name()
	defer os.Remove(name)
	if _, err := f.Write([]byte{'\n'}); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (s *spool) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.active != nil {
		err = s.active.Close()
		if s.activeFile.items == 0 {
			_ = os.Remove(filepath.Join(s.dir, s.activeFile.name))
		}
		s.active, s.activeFile = nil, nil
	}
	if s.lock != nil {
		err = errors.Join(err, unlockDir(s.lock))
		s.lock = nil
	}
	return err
}
