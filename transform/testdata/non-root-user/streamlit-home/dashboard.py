import streamlit as st

st.title("Queue depth")
st.line_chart([3, 1, 4, 1, 5, 9, 2, 6])
