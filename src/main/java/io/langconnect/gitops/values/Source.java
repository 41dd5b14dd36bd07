package io.langconnect.gitops.values;

/** Where a value came from: the values file (as the user names it) and its 1-based line. */
public record Source(String file, int line) {}
