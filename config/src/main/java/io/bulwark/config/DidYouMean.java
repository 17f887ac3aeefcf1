package io.bulwark.config;

import java.util.Collection;
import java.util.Comparator;
import java.util.Locale;
import java.util.Optional;

/**
 * Finds the known name a misspelt one was probably meant to be, for "did you mean" hints on
 * unknown keys, cluster names and enumerated values. A candidate qualifies when it is within a
 * small edit distance of the input; failing that, when one is a whole-word part of the other
 * ({@code retries} in {@code max-retries}); failing that, when they share most of a prefix
 * ({@code path} for {@code path-exact}).
 */
final class DidYouMean {

    private static final int MAX_DISTANCE = 2;
    private static final int MIN_COMMON_PREFIX = 4;

    private DidYouMean() {
    }

    /** The closest candidate, if any is close enough; ties go to the alphabetically first. */
    static Optional<String> suggest(String input, Collection<String> candidates) {
        String in = input.toLowerCase(Locale.ROOT);
        Optional<String> byDistance = candidates.stream()
                .filter(c -> !c.equals(input))
                .filter(c -> closeByDistance(in, c.toLowerCase(Locale.ROOT)))
                .min(Comparator.comparingInt((String c) -> levenshtein(in, c.toLowerCase(Locale.ROOT)))
                        .thenComparing(Comparator.naturalOrder()));
        if (byDistance.isPresent()) {
            return byDistance;
        }
        Optional<String> byWord = candidates.stream()
                .filter(c -> !c.equals(input))
                .filter(c -> containsAsWords(c.toLowerCase(Locale.ROOT), in) || containsAsWords(in, c.toLowerCase(Locale.ROOT)))
                .min(Comparator.comparingInt(String::length).thenComparing(Comparator.naturalOrder()));
        if (byWord.isPresent()) {
            return byWord;
        }
        return candidates.stream()
                .filter(c -> !c.equals(input))
                .filter(c -> closeByPrefix(in, c.toLowerCase(Locale.ROOT)))
                .min(Comparator.comparingInt((String c) -> -commonPrefix(in, c.toLowerCase(Locale.ROOT)))
                        .thenComparing(Comparator.naturalOrder()));
    }

    /** {@code (did you mean "x"?)} or an empty string, ready to append to a message. */
    static String hint(String input, Collection<String> candidates) {
        return suggest(input, candidates).map(s -> " (did you mean \"" + s + "\"?)").orElse("");
    }

    private static boolean closeByDistance(String input, String candidate) {
        // On very short inputs two edits can turn anything into anything; demand real overlap.
        int allowed = Math.min(MAX_DISTANCE, Math.max(1, input.length() / 2));
        return levenshtein(input, candidate) <= allowed;
    }

    /** Whether {@code part} (of at least a few letters) is whole hyphen-separated words of {@code whole}. */
    private static boolean containsAsWords(String whole, String part) {
        if (part.length() < MIN_COMMON_PREFIX || part.length() >= whole.length()) {
            return false;
        }
        return ("-" + whole + "-").contains("-" + part + "-");
    }

    private static boolean closeByPrefix(String input, String candidate) {
        // Most of the shorter name must be shared, or "retries" would suggest "retriable-status".
        int common = commonPrefix(input, candidate);
        return common >= MIN_COMMON_PREFIX && common * 4 >= 3 * Math.min(input.length(), candidate.length());
    }

    private static int commonPrefix(String a, String b) {
        int n = Math.min(a.length(), b.length());
        int i = 0;
        while (i < n && a.charAt(i) == b.charAt(i)) {
            i++;
        }
        return i;
    }

    static int levenshtein(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j] + 1, current[j - 1] + 1));
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
