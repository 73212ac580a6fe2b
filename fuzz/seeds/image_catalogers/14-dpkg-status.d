Package: tzdata
Status: install ok installed
Architecture: all
Version: 2024a-0+deb12u1
