"""podscope.session"""
