// ignore_bench.go: the docker CLI's own .dockerignore matcher
// (github.com/moby/patternmatcher, Debian's golang-github-moby-patternmatcher-dev)
// timed on the input bench/ignore_bench.c dumps, as a reference for
// builder's matcher. Reads DIR/dockerignore the way ignorefile.ReadAll
// does (the '#' comment lines and a leading '/' are its work; the rest is
// patternmatcher.New's), calls MatchesOrParentMatches on every line of
// DIR/paths ROUNDS times, and prints the line ignore_bench prints.
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run bench/ignore_bench.go DIR
package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/moby/patternmatcher"
)

const rounds = 11

func lines(name string) []string {
	f, err := os.Open(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ignore_bench.go:", err)
		os.Exit(1)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: ignore_bench DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	var patterns []string
	for _, l := range lines(filepath.Join(dir, "dockerignore")) {
		if strings.HasPrefix(l, "#") {
			continue
		}
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		neg := strings.HasPrefix(l, "!")
		if neg {
			l = strings.TrimSpace(l[1:])
		}
		if len(l) > 0 {
			l = filepath.Clean(l)
			l = strings.TrimPrefix(l, "/")
		}
		if neg {
			l = "!" + l
		}
		patterns = append(patterns, l)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ignore_bench.go:", err)
		os.Exit(1)
	}
	paths := lines(filepath.Join(dir, "paths"))
	ns := make([]float64, rounds)
	excluded := 0
	for r := 0; r < rounds; r++ {
		n := 0
		t0 := time.Now()
		for _, p := range paths {
			m, err := pm.MatchesOrParentMatches(p)
			if err != nil {
				fmt.Fprintln(os.Stderr, "ignore_bench.go:", err)
				os.Exit(1)
			}
			if m {
				n++
			}
		}
		ns[r] = float64(time.Since(t0).Nanoseconds()) / float64(len(paths))
		excluded = n
	}
	sort.Float64s(ns)
	fmt.Printf("ignore paths=%d patterns=%d excluded=%d ns_per_path=%.1f min=%.1f max=%.1f\n",
		len(paths), len(pm.Patterns()), excluded, ns[rounds/2], ns[0], ns[rounds-1])
}
