ACTIVITIES: list[type] = []
