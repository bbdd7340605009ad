WORKFLOWS: list[type] = []
