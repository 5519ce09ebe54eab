# Minimal JSON writer shared by the reference scripts in this folder (full double
# precision: jsonlite rounds to 15 significant digits). Sourced, not run on its own.

fmt_num <- function(x) {
  if (!is.finite(x)) return("null")
  for (d in 15:17) {
    s <- sprintf(paste0("%.", d, "g"), x)
    if (as.numeric(s) == x) return(s)
  }
  s
}

json_str <- function(s) {
  if (is.na(s)) return("null")
  s <- gsub("\\\\", "\\\\\\\\", s)
  s <- gsub("\"", "\\\\\"", s)
  s <- gsub("\n", "\\\\n", s)
  s <- gsub("\r", "\\\\r", s)
  s <- gsub("\t", "\\\\t", s)
  paste0("\"", s, "\"")
}

json_atom <- function(x) {
  if (is.logical(x)) return(if (is.na(x)) "null" else if (x) "true" else "false")
  if (is.integer(x)) return(if (is.na(x)) "null" else as.character(x))
  if (is.numeric(x)) return(fmt_num(x))
  if (is.character(x) || is.factor(x)) return(json_str(as.character(x)))
  stop("unsupported type: ", class(x)[1])
}

# Vectors wrapped in arr() are always JSON arrays; other length-1 atomics are
# scalars.  Named lists become objects, unnamed lists arrays.
arr <- function(x) structure(list(v = unname(x)), class = "json_array")

to_json <- function(x, indent = 0) {
  pad <- strrep("  ", indent)
  pad1 <- strrep("  ", indent + 1)
  if (inherits(x, "json_array")) {
    v <- x$v
    if (length(v) == 0) return("[]")
    return(paste0("[", paste(vapply(seq_along(v), function(i) json_atom(v[[i]]), ""),
                             collapse = ", "), "]"))
  }
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    if (!is.null(names(x))) {
      items <- vapply(seq_along(x), function(i)
        paste0(pad1, json_str(names(x)[i]), ": ", to_json(x[[i]], indent + 1)), "")
      return(paste0("{\n", paste(items, collapse = ",\n"), "\n", pad, "}"))
    }
    items <- vapply(seq_along(x), function(i) paste0(pad1, to_json(x[[i]], indent + 1)), "")
    return(paste0("[\n", paste(items, collapse = ",\n"), "\n", pad, "]"))
  }
  if (length(x) == 1) return(json_atom(x))
  to_json(arr(x), indent)
}

