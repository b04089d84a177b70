"""Pure parsers for imported files: bytes in, validated rows or an InputError
out. No database access here, so the parsers can be fuzzed on their own."""
