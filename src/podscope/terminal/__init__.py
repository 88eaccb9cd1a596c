"""podscope.terminal"""
