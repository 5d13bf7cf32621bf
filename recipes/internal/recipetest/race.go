//go:build race

package recipetest

const raceEnabled = true
