portal_patterns: list = []
console_patterns: list = []
