module deferlint.test/go-rewriter

go 1.19
