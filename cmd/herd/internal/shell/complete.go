package shell

import (
	"context"
	"sort"
	"strings"
	"time"
)

// completer completes command names in the first word and znode paths in any
// word that starts with "/", as zkCli's JLineZNodeCompleter does.
type completer struct{ sh *Shell }

// completionTimeout bounds the getChildren a tab press may issue.
const completionTimeout = 2 * time.Second

// Do implements readline.AutoCompleter: it returns the suffixes that complete
// the word before pos and the length of that word's completed part.
func (c *completer) Do(line []rune, pos int) ([][]rune, int) {
	head := string(line[:pos])
	start := strings.LastIndexAny(head, " \t") + 1
	word := head[start:]
	if start == 0 || strings.TrimSpace(head[:start]) == "" {
		return suffixes(commandNames(), word, " "), len([]rune(word))
	}
	if !strings.HasPrefix(word, "/") {
		return nil, 0
	}
	return c.paths(word)
}

func (c *completer) paths(word string) ([][]rune, int) {
	client := c.sh.currentClient()
	if client == nil {
		return nil, 0
	}
	i := strings.LastIndex(word, "/")
	parent, prefix := word[:i], word[i+1:]
	if parent == "" {
		parent = "/"
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	children, _, err := client.Children(ctx, parent, false)
	if err != nil {
		return nil, 0
	}
	sort.Strings(children)
	return suffixes(children, prefix, ""), len([]rune(prefix))
}

// suffixes returns, for each candidate starting with prefix, the rest of it
// followed by tail.
func suffixes(cands []string, prefix, tail string) [][]rune {
	var out [][]rune
	for _, c := range cands {
		if strings.HasPrefix(c, prefix) {
			out = append(out, []rune(c[len(prefix):]+tail))
		}
	}
	return out
}
