print("yingtong")
