"""Finding passages: lexical and dense search, fusion, reranking, relevance, context passages."""
