"""podscope.spec"""
